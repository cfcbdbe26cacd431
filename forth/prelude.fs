\ prelude.fs: the part of mneme's Forth written in Forth. It is compiled
\ into every VM when it is created (forth_create), after the C words.
-1 CONSTANT TRUE  0 CONSTANT FALSE  32 CONSTANT BL
1 CELLS CONSTANT CELL
: DECIMAL ( -- ) 10 BASE ! ;
: HEX ( -- ) 16 BASE ! ;
: SPACE ( -- ) BL EMIT ;
: SPACES ( n -- ) BEGIN DUP 0> WHILE SPACE 1- REPEAT DROP ;
: COUNT ( c-addr -- c-addr' u ) DUP 1+ SWAP C@ ;
: /STRING ( a u n -- a' u' ) ROT OVER + -ROT - ;
: ERASE ( a u -- ) 0 FILL ;
: BLANK ( a u -- ) BL FILL ;
: 2VARIABLE ( "name" -- ) CREATE 0 , 0 , ;
: BUFFER: ( u "name" -- ) CREATE ALLOT ;
: ABORT ( -- ) -1 THROW ;
: EVALUATE ( a u -- ) (push-eval) INTERPRET (pop-source) ;
: INCLUDED ( a u -- ) (open-file) BEGIN REFILL WHILE INTERPRET REPEAT (pop-source) ;
: INCLUDE ( "name" -- ) PARSE-NAME INCLUDED ;
: INCLUDE-FILE ( i*x fileid -- j*x ) (include-file) BEGIN REFILL WHILE INTERPRET REPEAT (pop-source) ;
: REQUIRED ( i*x c-addr u -- j*x ) 2DUP (required?) IF 2DROP ELSE INCLUDED THEN ;
: REQUIRE ( i*x "name" -- j*x ) PARSE-NAME REQUIRED ;
: LOAD ( i*x u -- j*x ) DUP 0= IF -35 THROW THEN DUP BLOCK 1024 ROT (push-block) INTERPRET (pop-source) ;
: THRU ( i*x u1 u2 -- j*x ) 1+ SWAP ?DO I LOAD LOOP ;
: .( ( "text" -- ) [CHAR] ) PARSE TYPE ; IMMEDIATE
: DABS ( d -- ud ) DUP 0< IF DNEGATE THEN ;
: U. ( u -- ) 0 <# #S #> TYPE SPACE ;
: . ( n -- ) DUP ABS 0 <# #S ROT SIGN #> TYPE SPACE ;
: D. ( d -- ) TUCK DABS <# #S ROT SIGN #> TYPE SPACE ;
: D.R ( d n -- ) >R TUCK DABS <# #S ROT SIGN #> R> OVER - SPACES TYPE ;
: .R ( n1 n2 -- ) >R S>D R> D.R ;
: U.R ( u n -- ) >R 0 <# #S #> R> OVER - SPACES TYPE ;
: ? ( a -- ) @ . ;
: D0= ( d -- f ) OR 0= ;
: D0< ( d -- f ) NIP 0< ;
: D= ( d1 d2 -- f ) ROT = -ROT = AND ;
: D< ( d1 d2 -- f ) ROT 2DUP = IF 2DROP U< ELSE SWAP < NIP NIP THEN ;
: DU< ( ud1 ud2 -- f ) ROT 2DUP = IF 2DROP U< ELSE SWAP U< NIP NIP THEN ;
: DMAX ( d1 d2 -- d3 ) 2OVER 2OVER D< IF 2SWAP THEN 2DROP ;
: DMIN ( d1 d2 -- d3 ) 2OVER 2OVER D< 0= IF 2SWAP THEN 2DROP ;
: D>S ( d -- n ) DROP ;
: D2* ( d -- d' ) 2DUP D+ ;
: D2/ ( d -- d' ) >R 1 RSHIFT R@ 1 AND IF [ -1 1 RSHIFT INVERT ] LITERAL OR THEN R> 2/ ;
: M+ ( d n -- d' ) S>D D+ ;
: 2ROT ( x1 x2 x3 x4 x5 x6 -- x3 x4 x5 x6 x1 x2 ) 5 ROLL 5 ROLL ;
: .S ( -- ) ." <" DEPTH 0 .R ." > " DEPTH 0 ?DO DEPTH I - 1- PICK . LOOP ;
: DUMP ( a u -- )
  BASE @ >R HEX OVER + SWAP
  BEGIN 2DUP > WHILE
    CR DUP 0 <# # # # # # # # # #> TYPE ." :"
    16 0 DO DUP I + 2 PICK < IF SPACE DUP I + C@ 0 <# # # #> TYPE THEN LOOP
    16 +
  REPEAT 2DROP CR R> BASE ! ;
: [THEN] ( -- ) ; IMMEDIATE
: [ELSE] ( -- )
  1 BEGIN
    BEGIN PARSE-NAME DUP WHILE
      2DUP S" [IF]" (name=) IF 2DROP 1+ ELSE
      2DUP S" [ELSE]" (name=) IF 2DROP 1- DUP IF 1+ THEN ELSE
      S" [THEN]" (name=) IF 1- THEN THEN THEN
      ?DUP 0= IF EXIT THEN
    REPEAT 2DROP
  REFILL 0= UNTIL DROP ; IMMEDIATE
: [IF] ( f -- ) 0= IF POSTPONE [ELSE] THEN ; IMMEDIATE
: TRAVERSE-WORDLIST ( i*x xt wid -- j*x ) \ xt ( k*x nt -- l*x flag )
  SWAP >R >R 0 >R
  BEGIN 2R@ SWAP (wl-next) DUP WHILE
    R> DROP DUP >R  2R> R@ -ROT 2>R  EXECUTE 0=
  UNTIL 0 THEN DROP R> R> R> 2DROP DROP ;
: LOCALS| ( "name ... |" -- ) \ Forth-94 locals: the first name takes the top
  BEGIN PARSE-NAME 2DUP S" |" COMPARE WHILE (LOCAL) REPEAT 2DROP 0 0 (LOCAL) ; IMMEDIATE
: BEGIN-STRUCTURE ( "name" -- addr 0 ) CREATE HERE 0 0 , DOES> @ ;
: END-STRUCTURE ( addr n -- ) SWAP ! ;
: +FIELD ( n1 n2 "name" -- n3 ) CREATE OVER , + DOES> @ + ;
: FIELD: ( n1 "name" -- n2 ) ALIGNED 1 CELLS +FIELD ;
: CFIELD: ( n1 "name" -- n2 ) 1 CHARS +FIELD ;
: FFIELD: ( n1 "name" -- n2 ) FALIGNED 1 FLOATS +FIELD ;
: SFFIELD: ( n1 "name" -- n2 ) SFALIGNED 1 SFLOATS +FIELD ;
: DFFIELD: ( n1 "name" -- n2 ) FALIGNED 1 FLOATS +FIELD ;
: FVARIABLE ( "name" -- ) CREATE 1 FLOATS ALLOT ;
SYNONYM DF@ F@  SYNONYM DF! F!  SYNONYM DFLOATS FLOATS  SYNONYM DFLOAT+ FLOAT+
3.14159265358979323846E0 FCONSTANT PI
: (quit-loop) ( -- ) BEGIN REFILL WHILE INTERPRET (ok) REPEAT ;
: QUIT ( -- ) (quit-reset) BEGIN ['] (quit-loop) CATCH ?DUP WHILE (report) REPEAT BYE ;
: LIST ( u -- ) DUP SCR ! DUP ." Screen " U. BLOCK
  16 0 DO CR I 2 .R SPACE DUP I 64 * + 64 TYPE LOOP DROP CR ;
: USE ( "name" -- ) PARSE-NAME OPEN-BLOCKS ;
