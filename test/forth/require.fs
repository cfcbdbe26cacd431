\ require.fs: a test-only REQUIRE for running gforth's test files in place
\ (File-Access's REQUIRED comes with the files service). A file is
\ included once per base name, so "require ./tester.fs" after the
\ harness was loaded by its full path does nothing.
[UNDEFINED] REQUIRED [IF]
CREATE (REQ-NAMES) 4096 ALLOT  VARIABLE (REQ-END)  (REQ-NAMES) (REQ-END) !
: (BASENAME) ( a u -- a' u' )
  2DUP + >R BEGIN DUP WHILE
    2DUP + 1- C@ [CHAR] / = IF + R> OVER - EXIT THEN 1-
  REPEAT DROP R> OVER - ;
: (REQ?) ( a u -- f ) \ already included?
  (BASENAME) (REQ-NAMES) BEGIN DUP (REQ-END) @ < WHILE
    >R 2DUP R@ COUNT COMPARE 0= IF 2DROP R> DROP TRUE EXIT THEN
    R> COUNT + REPEAT DROP 2DROP FALSE ;
: (REQ!) ( a u -- ) (BASENAME) DUP (REQ-END) @ C! (REQ-END) @ 1+ SWAP DUP >R MOVE
  R> 1+ (REQ-END) +! ;
: REQUIRED ( a u -- ) 2DUP (REQ?) IF 2DROP EXIT THEN 2DUP (REQ!) INCLUDED ;
: REQUIRE ( "name" -- ) PARSE-NAME REQUIRED ;
[THEN]
