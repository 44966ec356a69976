# 6. Establishment phase: seconds until all C connections had one 2xx answer.
set title "$title" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "time until all C answered once, s (log scale)"
set logscale xy
set format y "%g"
