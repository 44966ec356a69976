# 1. Throughput vs concurrency, one line per series, with Little's law ideal C/D (and the CPU
# ceiling when requests cost CPU). Log-log: blocking's flat 1/D and the ideal's slope 1 both show.
set title "$title" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "throughput, 2xx responses/s over the steady window (log scale)"
set logscale xy
set format y "%g"
