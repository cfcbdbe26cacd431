\ block.fs: tests of the Block word set and its extension (Forth 2012
\ section 7), written from the glossary and Appendix F.7. Run from a
\ scratch directory: blocks go to mneme-blocks.fb there.
DECIMAL
TESTING OPEN-BLOCKS BLOCK BUFFER UPDATE FLUSH
S" mneme-blocks.fb" 2DUP DELETE-FILE DROP OPEN-BLOCKS
T{ BLK @ -> 0 }T
: FILLB ( c u -- ) BLOCK 1024 ROT FILL UPDATE ;
T{ 1 BLOCK DUP C@ SWAP 1023 + C@ -> BL BL }T   \ beyond the file: spaces
T{ CHAR a 1 FILLB CHAR b 2 FILLB FLUSH -> }T
: FSIZE ( c-addr u -- ud ) R/O OPEN-FILE THROW DUP >R FILE-SIZE THROW R> CLOSE-FILE THROW ;
T{ S" mneme-blocks.fb" FSIZE -> 3072. }T
T{ 2 BLOCK C@ 1 BLOCK C@ -> CHAR b CHAR a }T
\ BUFFER assigns without reading; contents written only after UPDATE
T{ 3 BUFFER 1024 CHAR c FILL UPDATE SAVE-BUFFERS -> }T
T{ EMPTY-BUFFERS 3 BLOCK 5 + C@ -> CHAR c }T
\ EMPTY-BUFFERS forgets unsaved changes
T{ CHAR z 1 FILLB EMPTY-BUFFERS 1 BLOCK C@ -> CHAR a }T
\ more blocks than buffers: the least recently used are written back
: MANY 20 10 DO I [CHAR] A + I FILLB LOOP ;
T{ MANY FLUSH 10 BLOCK C@ 19 BLOCK C@ 15 BLOCK 1023 + C@ -> CHAR K CHAR T CHAR P }T
T{ 2 BLOCK 2 BLOCK = -> TRUE }T

TESTING LOAD THRU BLK SCR LIST \ in blocks, REFILL in a block
: PUT ( c-addr u blk -- ) BLOCK DUP 1024 BLANK SWAP MOVE UPDATE ;
VARIABLE R1 VARIABLE R2
T{ S" 11 R1 ! BLK @ R2 ! \ the rest of the line is a comment: 99 R1 !  " 5 PUT -> }T
T{ 5 LOAD R1 @ R2 @ BLK @ -> 11 5 0 }T
T{ S" R1 @ 1+ R1 !" 6 PUT S" R1 @ 10 * R1 !" 7 PUT -> }T
T{ 6 7 THRU R1 @ -> 120 }T
: EV1 S" BLK @ 2 + R1 !" EVALUATE ;   \ EVALUATE makes BLK 0
T{ S" : LD1 BLK @ ; LD1 R2 ! EV1 BLK @ R1 @ + R1 !" 8 PUT -> }T
T{ 8 LOAD R1 @ R2 @ -> 10 8 }T
T{ S" REFILL" 9 PUT S" BLK @ R2 ! ( rest of 9 is not run )" 10 PUT 9 LOAD R2 @ -> TRUE 10 }T
T{ 0 SCR ! 5 LIST SCR @ -> 5 }T
T{ BLOCK-FILE S" mneme-blocks.fb" COMPARE -> 0 }T
: L0 0 LOAD ;
T{ ' L0 CATCH -> -35 }T
FLUSH S" mneme-blocks.fb" DELETE-FILE DROP
T{ S" BLOCK" ENVIRONMENT? S" BLOCK-EXT" ENVIRONMENT? -> TRUE TRUE TRUE TRUE }T
TESTS-DONE
