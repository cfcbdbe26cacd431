\ floats.fs: a float-heavy benchmark for bench/forth.sh (standard words
\ only, so gforth runs it unchanged): a Mandelbrot set count and a
\ numeric integral with FSQRT and FSIN.
FVARIABLE C-RE  FVARIABLE C-IM
: mandel-point ( -- n ) ( F: -- )
  0E 0E 0                                  \ zr zi count
  BEGIN DUP 100 < WHILE
    FOVER FDUP F* FOVER FDUP F* F+ 4E F< 0= IF DROP FDROP FDROP 0 EXIT THEN
    FOVER FOVER F* 2E F* C-IM F@ F+           \ zr zi zi'
    FROT FDUP F* FROT FDUP F* F- C-RE F@ F+   \ zi' zr'
    FSWAP 1+
  REPEAT DROP FDROP FDROP 1 ;
: mandel ( -- n ) 0
  120 0 DO 160 0 DO
    I S>F 80E F/ 1.5E F-  C-RE F!
    J S>F 60E F/ 1E F-  C-IM F!
    mandel-point +
  LOOP LOOP ;
: integral ( -- ) ( F: -- r )
  0E 1000000 0 DO I S>F 2E-6 F* FDUP FSQRT FSWAP FSIN F* F+ LOOP 2E-6 F* ;
: main ( -- ) 10 0 DO mandel 7416 <> ABORT" mandel" LOOP
  integral 1.532E F- FABS 1E-3 F< 0= ABORT" integral" ;
