# 5. Failed requests (connect/read/write/timeout/parse errors and non-2xx) as % of attempts.
set title "$title" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "failed requests, % of attempted"
set logscale x
set yrange [-3:103]
set ytics 0, 10, 100
set mytics 2
