\ locals.fs: tests of the Locals word set (Forth 2012 section 13), from
\ the glossary and the ideas of Appendix F.13.
DECIMAL
TESTING {: :}
T{ : LT1 {: A B :} A B ; 1 2 LT1 -> 1 2 }T
T{ : LT2 {: A B :} B A ; 1 2 LT2 -> 2 1 }T
T{ : LT3 {: A | B C :} B C A ; 7 LT3 -> 0 0 7 }T
T{ : LT4 {: A B -- C :} A B + ; 3 4 LT4 -> 7 }T
T{ : LT5 {: | X :} 5 TO X X X * ; LT5 -> 25 }T
T{ : LT6 {: A :} A 1+ TO A A ; 9 LT6 -> 10 }T
T{ : LT7 {: -- :} 11 ; LT7 -> 11 }T
\ locals inside loops and control structures
T{ : LT8 {: N :} 0 N 0 DO I N + + LOOP ; 3 LT8 -> 12 }T
T{ : LT9 {: A B :} A B > IF A ELSE B THEN ; 3 8 LT9 8 3 LT9 -> 8 8 }T
\ recursion: every call has its own frame
T{ : LT10 {: N :} N 2 < IF N ELSE N 1- RECURSE N 2 - RECURSE + THEN ; 10 LT10 -> 55 }T
\ EXIT leaves the frame
T{ : LT11 {: A :} A 0< IF 0 EXIT THEN A ; -5 LT11 5 LT11 -> 0 5 }T
\ names are case-insensitive and shadow words
T{ : LT12 {: dup :} DUP DUP * ; 6 LT12 -> 36 }T
\ a THROW through a word with locals restores the frame
: LT13 {: A B :} A B / ;
: LT14 {: X :} X 0 ['] LT13 CATCH >R 2DROP R> X ;
T{ 42 LT14 -> -10 42 }T
\ DOES> ends the locals of the creating part
T{ : LT15 {: V :} CREATE V , DOES> @ 2* ; 21 LT15 LT16 LT16 -> 42 }T
\ (LOCAL): the first declared takes the top of the stack (as LOCALS| does)
: LOCALS2| ( "name..." -- )
  BEGIN PARSE-NAME 2DUP S" |" COMPARE WHILE (LOCAL) REPEAT 2DROP 0 0 (LOCAL) ; IMMEDIATE
T{ : LT17 LOCALS2| X Y | X Y - ; 10 3 LT17 -> -7 }T
T{ : LT19 LOCALS| X Y | X Y - ; 10 3 LT19 -> -7 }T
T{ : LT18 {: A :} {: B :} A B * ; 6 7 LT18 -> 42 }T
T{ S" LOCALS" ENVIRONMENT? -> TRUE TRUE }T
T{ S" #LOCALS" ENVIRONMENT? -> 32 TRUE }T
TESTS-DONE
