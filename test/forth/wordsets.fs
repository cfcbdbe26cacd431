\ wordsets.fs: mneme's own tests of the Forth 2012 word sets beyond Core,
\ written from the glossary; run by test/forth.sh after tester.fs.
DECIMAL
TESTING Core extension
T{ 1 2 3 NIP -> 1 3 }T
T{ 1 2 TUCK -> 2 1 2 }T
T{ 0 0> 1 0> -1 0> -> 0 -1 0 }T
T{ 3 3 <> 3 4 <> -> 0 -1 }T
T{ 2 1 3 WITHIN 3 1 3 WITHIN 0 -1 1 WITHIN -> -1 0 -1 }T
T{ : C1 CASE 1 OF 11 ENDOF 2 OF 22 ENDOF 99 SWAP ENDCASE ; -> }T
T{ 1 C1 2 C1 5 C1 -> 11 22 99 }T
T{ 10 VALUE V1 V1 -> 10 }T
T{ 20 TO V1 V1 -> 20 }T
T{ DEFER D1 ' 1+ IS D1 5 D1 -> 6 }T
T{ ACTION-OF D1 -> ' 1+ }T
T{ :NONAME 7 ; EXECUTE -> 7 }T
T{ : Q1 5 0 ?DO I LOOP ; Q1 -> 0 1 2 3 4 }T
T{ : Q2 0 0 ?DO I LOOP ; Q2 -> }T
T{ : A1 BEGIN DUP 0= IF EXIT THEN 1- AGAIN ; 5 A1 -> 0 }T
T{ 3 BUFFER: B1 -> }T
T{ 77 B1 C! B1 C@ -> 77 }T
T{ S\" \t\n\x41" NIP -> 3 }T
T{ CHAR ) PARSE abc) NIP -> 3 }T
T{ PARSE-NAME   xyz NIP -> 3 }T
T{ 1 2 3 1 PICK -> 1 2 3 2 }T
T{ 1 2 3 2 ROLL -> 2 3 1 }T
T{ HEX FF DECIMAL -> 255 }T
T{ TRUE FALSE -> -1 0 }T
T{ 1 2 3 3 N>R NR> -> 1 2 3 3 }T
TESTING Double
T{ 1. 2. D+ -> 3. }T
T{ 5. 7. D- -> -2. }T
T{ -3. DABS -> 3. }T
T{ 1. DNEGATE -> -1. }T
T{ 1. 2. D< 2. 1. D< -> -1 0 }T
T{ 5. 5. D= -> -1 }T
T{ 9. D>S -> 9 }T
T{ 3. 4 M+ -> 7. }T
T{ 100. 3 4 M*/ -> 75. }T
T{ 1 2 2CONSTANT DC1 DC1 -> 1 2 }T
T{ 2VARIABLE DV1 3. DV1 2! DV1 2@ -> 3. }T
T{ 5. 2VALUE DV2 DV2 -> 5. }T
T{ : DL1 [ 8. ] 2LITERAL ; DL1 -> 8. }T
TESTING String
T{ S" abc" S" abc" COMPARE -> 0 }T
T{ S" abc" S" abd" COMPARE -> -1 }T
T{ S" abd" S" abc" COMPARE -> 1 }T
T{ S" hello" S" ll" SEARCH NIP NIP -> -1 }T
T{ S" hello" 1 /STRING NIP -> 4 }T
T{ S" ab  " -TRAILING NIP -> 2 }T
T{ : SL1 [ S" q" ] SLITERAL ; SL1 NIP -> 1 }T
TESTING Exception
T{ : E1 99 THROW ; ' E1 CATCH -> 99 }T
T{ : E2 ABORT" x" ; 0 ' E2 CATCH -> 0 }T
T{ 1 ' E2 CATCH NIP -> -2 }T
T{ : E3 ['] E1 CATCH 1+ ; E3 -> 100 }T
TESTING Tools
T{ [DEFINED] DUP [UNDEFINED] DUP -> -1 0 }T
T{ 1 [IF] 1 [ELSE] 2 [THEN] -> 1 }T
T{ 0 [IF] 1 [ELSE] 2 [THEN] -> 2 }T
TESTING Memory allocation
T{ 64 ALLOCATE SWAP DROP -> 0 }T
T{ 64 ALLOCATE DROP DUP 5 SWAP ! 200 RESIZE DROP DUP @ SWAP FREE -> 5 0 }T
T{ -1 ALLOCATE NIP 0= -> 0 }T
TESTING File (INCLUDED)
T{ S" include_me.fs" INCLUDED INCLUDED-VALUE -> 1234 }T
TESTS-DONE
