\ tester.fs: mneme's test harness for Forth test files, in the style of
\ John Hayes' tester: T{ code -> expected results }T (also { -> }).
\ Each mismatch prints a "not ok" line; "TESTS-DONE" prints the summary.
DECIMAL
VARIABLE #ERRORS   0 #ERRORS !
VARIABLE #TESTS    0 #TESTS !
VARIABLE START-DEPTH
VARIABLE ACTUAL-DEPTH
CREATE ACTUAL-RESULTS 64 CELLS ALLOT
: ERROR ( c-addr u -- )
  ." not ok - " TYPE SOURCE TYPE CR  1 #ERRORS +! ;
: T{ ( -- ) DEPTH START-DEPTH !  1 #TESTS +! ;
: -> ( ... -- )
  DEPTH DUP ACTUAL-DEPTH !
  START-DEPTH @ > IF
    DEPTH START-DEPTH @ - 0 DO ACTUAL-RESULTS I CELLS + ! LOOP
  THEN ;
: }T ( ... -- )
  DEPTH ACTUAL-DEPTH @ = IF
    DEPTH START-DEPTH @ > IF
      DEPTH START-DEPTH @ - 0 DO
        ACTUAL-RESULTS I CELLS + @ <> IF S" incorrect result: " ERROR LEAVE THEN
      LOOP
    THEN
  ELSE
    S" wrong number of results: " ERROR
  THEN ;
: { T{ ;
: } }T ;
: TESTING ( "text" -- ) 0 PARSE 2DROP ;
: TESTS-DONE ( -- )
  #ERRORS @ IF ." not ok - " #ERRORS @ . ." of " ELSE ." ok - all " THEN
  #TESTS @ . ." tests in " SOURCE-ID DROP ." this run passed" CR ;
