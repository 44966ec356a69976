# 3. Server memory per connection: (peak PSS - idle PSS) / C over the server's whole process tree.
set title "$title" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "server PSS per connection, KiB (log scale)"
set logscale xy
set format y "%g"
