\ locals.fs: a locals-heavy benchmark for bench/forth.sh. gforth 0.7.3
\ has no {: :}, so it gets one from (LOCAL) here (standard words only).
[UNDEFINED] {: [IF]
: {: ( "names :}" -- )
  0 BEGIN PARSE-NAME 2DUP S" :}" COMPARE WHILE ROT 1+ REPEAT 2DROP
  0 ?DO (LOCAL) LOOP 0 0 (LOCAL) ; IMMEDIATE
[THEN]
: lsum ( n -- x ) 0 0 {: n acc i :}
  BEGIN i n < WHILE acc i + i 3 AND XOR TO acc i 1+ TO i REPEAT acc ;
: lfib ( n -- f ) {: n :} n 2 < IF n EXIT THEN n 1- RECURSE n 2 - RECURSE + ;
: lgcd ( a b -- g ) {: a b :} b 0= IF a EXIT THEN b a b MOD RECURSE ;
: lgcds ( n -- s ) 0 SWAP 1 DO I 1000 lgcd + LOOP ;
: main ( -- ) 0 100 0 DO 100000 lsum + LOOP DROP 30 lfib 832040 <> ABORT" lfib"
  1000000 lgcds DROP ;
