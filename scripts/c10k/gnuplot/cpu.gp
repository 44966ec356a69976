# 4. Server CPU time (user + sys, whole process tree) per request served.
set title "$title" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "server CPU per request, µs (log scale)"
set logscale xy
set format y "%g"
