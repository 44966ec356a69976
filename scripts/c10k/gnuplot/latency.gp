# 2. Latency p50 (solid) and p99 (dashed) vs concurrency, log-log; D is the ideal.
set title "$title" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "latency per request, ms (log scale)"
set logscale xy
set format y "%g"
