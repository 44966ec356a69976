# 5. Errors (connect/read/write/timeout/parse: no answer) and non-2xx answers, each as % of attempts.
set title "$title" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "errors / non-2xx answers, % of attempted"
set logscale x
set yrange [-3:103]
set ytics 0, 10, 100
set mytics 2
