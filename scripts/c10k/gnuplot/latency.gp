# 2. Latency p50 (solid) and p99 (dashed) vs concurrency, log-log; D is the ideal.
set title "$title" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "latency of 2xx responses, ms (log scale)"
set logscale xy
set format y "%g"
