\ string.fs: tests of the String word set's substitution words (Forth
\ 2012 section 17: REPLACES SUBSTITUTE UNESCAPE), from the glossary.
DECIMAL
TESTING REPLACES SUBSTITUTE UNESCAPE
CREATE SBUF 80 CHARS ALLOT
: S= ( a1 u1 a2 u2 -- f ) COMPARE 0= ;
T{ S" mneme" S" os" REPLACES -> }T
T{ S" hello %os%!" SBUF 80 SUBSTITUTE -ROT S" hello mneme!" S= -> 1 TRUE }T
T{ S" %os% and %OS%" SBUF 80 SUBSTITUTE -ROT S" mneme and mneme" S= -> 2 TRUE }T
T{ S" 100%% sure" SBUF 80 SUBSTITUTE -ROT S" 100% sure" S= -> 0 TRUE }T
T{ S" %nosuch% x" SBUF 80 SUBSTITUTE -ROT S" %nosuch% x" S= -> 0 TRUE }T
T{ S" lone % end" SBUF 80 SUBSTITUTE -ROT S" lone % end" S= -> 0 TRUE }T
\ one pass, not recursive
T{ S" %os%" S" rec" REPLACES -> }T
T{ S" <%rec%>" SBUF 80 SUBSTITUTE -ROT S" <%os%>" S= -> 1 TRUE }T
\ a new REPLACES of the same name wins; the source buffer may be reused
T{ S" OS" SBUF SWAP CMOVE SBUF 2 S" os" REPLACES -> }T
T{ S" zz" SBUF SWAP CMOVE -> }T
T{ S" [%os%]" PAD 80 SUBSTITUTE -ROT S" [OS]" S= -> 1 TRUE }T
\ a result that does not fit gives a negative n
T{ S" %os%%os%%os%" SBUF 5 SUBSTITUTE NIP NIP 0< -> TRUE }T
T{ S" 50%" SBUF UNESCAPE S" 50%%" S= -> TRUE }T
T{ S" a%b%%c" SBUF UNESCAPE S" a%%b%%%%c" S= -> TRUE }T
T{ S" plain" SBUF UNESCAPE S" plain" S= -> TRUE }T
T{ S" %os%" SBUF UNESCAPE PAD 80 SUBSTITUTE -ROT S" %os%" S= -> 0 TRUE }T
T{ S" STRING" ENVIRONMENT? -> TRUE TRUE }T
T{ S" STRING-EXT" ENVIRONMENT? -> TRUE TRUE }T
TESTS-DONE
