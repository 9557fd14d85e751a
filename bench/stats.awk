# The benchmark reports' statistics (bench/report.sh, bench/xen.sh): awk
# functions the scripts put in front of their own programs.

# sort_n(a, n): a[1..n] in ascending numeric order, in place.
function sort_n(a, n,    i, j, t) {
    for (i = 2; i <= n; i++) {
        t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--)
            a[j + 1] = a[j]
        a[j + 1] = t
    }
}

# median(a, n): the median of a[1..n] ("" when n is 0), which it leaves
# sorted: a[1] and a[n] are then the minimum and the maximum.
function median(a, n) {
    if (!n) return ""
    sort_n(a, n)
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
