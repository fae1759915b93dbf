# report.awk: turns the raw runs of scripts/bench into readable tables on
# stdout and a machine-readable TSV (-v tsv=FILE).  mawk-compatible.
#
#   awk -v configs="plain jemalloc ..." -v tsv=results.tsv -f report.awk META RAW
#
# META (tab-separated): id  unit  target  title  [derived]
#   target  "plain<=1.25"       cgoguard's median / plain's median <= 1.25
#           "jemalloc<=2.5"     ... / jemalloc's median
#           "row:strlen32<=1.5" ... / cgoguard's own median of row strlen32
#           ">=1.7"             the (derived) value itself
#   derived "A/B*K": no runs of its own; value = K * median(A) / median(B)
#           for each config (2-thread/1-thread throughput factor).
# RAW (tab-separated): rep  id  config  value   (value "NA" for a failed run)
# Targets are evaluated for the cgoguard config only; they are informational.

BEGIN { FS = "\t"; OFS = "\t"; nc = split(configs, cfg, " ") }

FNR == NR {
  nw++; wid[nw] = $1; unit[$1] = $2; tgt[$1] = $3; title[$1] = $4; drv[$1] = $5
  next
}
$4 != "NA" { vals[$2, $3] = vals[$2, $3] " " $4 }

function stats(key, s,   a, n, i, j, t) {
  n = split(s, a, " ")
  for (i = 2; i <= n; i++) {          # insertion sort, numeric
    t = a[i] + 0
    for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
    a[j + 1] = t
  }
  cnt[key] = n
  if (n == 0) return
  mn[key] = a[1] + 0
  med[key] = (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}

# median(w, c) / median(bw, bc), or "" when either is missing
function ratio(w, c, bw, bc) {
  if (cnt[w, c] == 0 || cnt[bw, bc] == 0 || med[bw, bc] == 0) return ""
  return med[w, c] / med[bw, bc]
}

function fmt(x, u) {
  if (x == "") return "-"
  return u == "KiB" ? sprintf("%.0f", x) : sprintf("%.2f", x)
}

# Sets T_RATIO, T_TEXT and T_STATUS for row w, config c.
function target(w, c,   spec, base, op, thr, r, lbl) {
  T_RATIO = ""; T_TEXT = ""; T_STATUS = "-"
  spec = tgt[w]
  if (spec == "" || c != "cgoguard" || !match(spec, /<=|>=/)) return
  base = substr(spec, 1, RSTART - 1); op = substr(spec, RSTART, 2)
  thr = substr(spec, RSTART + 2) + 0
  if (base == "")          { r = (cnt[w, c] ? med[w, c] : ""); lbl = "" }
  else if (base ~ /^row:/) { base = substr(base, 5); r = ratio(w, c, base, c); lbl = "x " base }
  else                     { r = ratio(w, c, w, base); lbl = "x " base }
  if (r == "") { T_TEXT = "target " op thr " " lbl ": n/a"; T_STATUS = "NA"; return }
  T_RATIO = sprintf("%.3f", r)
  T_STATUS = (op == "<=" ? r <= thr : r >= thr) ? "PASS" : "MISS"
  T_TEXT = sprintf("%.2f%s (target %s%s) %s", r, lbl, op, thr, T_STATUS)
}

END {
  for (i = 1; i <= nw; i++) {
    w = wid[i]
    for (k = 1; k <= nc; k++) {
      c = cfg[k]
      if (drv[w] == "") { stats(w SUBSEP c, vals[w, c]); continue }
      split(drv[w], d, /[\/*]/)             # A/B*K
      r = ratio(d[1], c, d[2], c)
      cnt[w, c] = (r == "") ? 0 : 1
      if (r != "") med[w, c] = mn[w, c] = r * d[3]
    }
  }
  print "workload", "config", "unit", "runs", "median", "min", "x_plain", "x_jemalloc",
        "target", "target_ratio", "status" > tsv
  for (i = 1; i <= nw; i++) {
    w = wid[i]; u = unit[w]
    printf "\n%s  [%s, %s is better]\n", title[w], u, (tgt[w] ~ />=/ ? "higher" : "lower")
    if (drv[w] != "")
      printf "  %-15s %12s  %s\n", "config", "factor", "cgoguard target"
    else
      printf "  %-15s %4s %11s %11s %8s %10s  %s\n", "config", "runs", "median", "min",
             "x plain", "x jemalloc", "cgoguard target"
    for (k = 1; k <= nc; k++) {
      c = cfg[k]
      target(w, c)
      rp = rj = ""
      if (drv[w] == "") { rp = ratio(w, c, w, "plain"); rj = ratio(w, c, w, "jemalloc") }
      if (drv[w] != "")
        printf "  %-15s %12s  %s\n", c, fmt(cnt[w, c] ? med[w, c] : ""), T_TEXT
      else
        printf "  %-15s %4d %11s %11s %8s %10s  %s\n", c, cnt[w, c],
               fmt(cnt[w, c] ? med[w, c] : "", u), fmt(cnt[w, c] ? mn[w, c] : "", u),
               fmt(rp), fmt(rj), T_TEXT
      v = cnt[w, c] ? (drv[w] == "" ? med[w, c] : sprintf("%.3f", med[w, c])) : "NA"
      print w, c, u, cnt[w, c] + 0, v, (drv[w] == "" ? (cnt[w, c] ? mn[w, c] : "NA") : v),
            (rp == "" ? "NA" : sprintf("%.3f", rp)), (rj == "" ? "NA" : sprintf("%.3f", rj)),
            (tgt[w] == "" || c != "cgoguard" ? "-" : tgt[w]),
            (T_RATIO == "" ? "NA" : T_RATIO), T_STATUS > tsv
    }
  }
}
