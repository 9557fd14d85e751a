/*
 * wordcount: the most frequent words in a tree of text files.
 *
 *   wordcount [--config FILE] PATH...
 *
 * Walks each PATH (files, and directories recursively; symbolic links are
 * not followed), splits the text into words (runs of letters, digits, '_'
 * and '\''), counts them in a hash table, and prints the WORDCOUNT_TOP
 * (environment, default 10) most frequent with their counts, then a
 * summary line. The configuration file holds "key = value" lines:
 * ignore-case (yes/no) and min-length (shortest word counted).
 *
 * The example manifest manifests/wordcount.yaml packs it with the docs/
 * tree; it runs the same natively on Linux, which the tests compare.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct word {
    char *text;
    unsigned long count;
    struct word *next;
};

#define BUCKETS 4096

static struct word *table[BUCKETS];
static unsigned long nwords, nunique, nfiles, nbytes;
static int ignore_case = 0;
static size_t min_length = 1;

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;               /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

static void count(const char *w)
{
    if (strlen(w) < min_length)
        return;
    unsigned h = hash(w);
    for (struct word *p = table[h]; p; p = p->next)
        if (!strcmp(p->text, w)) {
            p->count++;
            nwords++;
            return;
        }
    struct word *n = malloc(sizeof(*n));
    if (!n || !(n->text = strdup(w))) {
        fprintf(stderr, "wordcount: out of memory\n");
        exit(1);
    }
    n->count = 1;
    n->next = table[h];
    table[h] = n;
    nwords++;
    nunique++;
}

static int is_word_char(int c)
{
    return isalnum(c) || c == '_' || c == '\'';
}

static int count_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "wordcount: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char buf[8192], w[128];
    size_t wlen = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        nbytes += (unsigned long)n;
        for (ssize_t i = 0; i < n; i++) {
            int c = (unsigned char)buf[i];
            if (is_word_char(c)) {
                if (wlen < sizeof(w) - 1)
                    w[wlen++] = (char)(ignore_case ? tolower(c) : c);
            } else if (wlen) {
                w[wlen] = 0;
                count(w);
                wlen = 0;
            }
        }
    }
    if (wlen) {
        w[wlen] = 0;
        count(w);
    }
    int err = n < 0 ? errno : 0;
    close(fd);
    if (err) {
        fprintf(stderr, "wordcount: %s: %s\n", path, strerror(err));
        return -1;
    }
    nfiles++;
    return 0;
}

static int walk(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) {
        fprintf(stderr, "wordcount: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode))
        return count_file(path);
    if (!S_ISDIR(st.st_mode))
        return 0;                           /* links and others: skipped */
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "wordcount: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char child[4096];
        snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
        if (walk(child))
            rc = -1;
    }
    closedir(d);
    return rc;
}

static int read_config(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "wordcount: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[256];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char key[64], value[64];
        if (line[0] == '#' || line[strspn(line, " \t\n")] == 0)
            continue;
        if (sscanf(line, " %63[a-z-] = %63s", key, value) != 2) {
            fprintf(stderr, "wordcount: %s:%d: expected 'key = value'\n", path, lineno);
            rc = -1;
        } else if (!strcmp(key, "ignore-case")) {
            ignore_case = !strcmp(value, "yes") || !strcmp(value, "true");
        } else if (!strcmp(key, "min-length")) {
            min_length = (size_t)strtoul(value, NULL, 10);
        } else {
            fprintf(stderr, "wordcount: %s:%d: unknown key '%s'\n", path, lineno, key);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

static int by_count(const void *a, const void *b)
{
    const struct word *x = *(struct word *const *)a, *y = *(struct word *const *)b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->text, y->text);
}

int main(int argc, char **argv)
{
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "--config")) {
        if (read_config(argv[i + 1]))
            return 2;
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: wordcount [--config FILE] PATH...\n");
        return 2;
    }
    int rc = 0;
    for (; i < argc; i++)
        if (walk(argv[i]))
            rc = 1;

    struct word **all = malloc((nunique ? nunique : 1) * sizeof(*all));
    if (!all)
        return 1;
    size_t k = 0;
    for (unsigned b = 0; b < BUCKETS; b++)
        for (struct word *p = table[b]; p; p = p->next)
            all[k++] = p;
    qsort(all, k, sizeof(*all), by_count);
    const char *top_env = getenv("WORDCOUNT_TOP");
    size_t top = top_env ? (size_t)strtoul(top_env, NULL, 10) : 10;
    for (size_t j = 0; j < k && j < top; j++)
        printf("%8lu %s\n", all[j]->count, all[j]->text);
    printf("wordcount: %lu files, %lu bytes, %lu words, %lu distinct\n", nfiles, nbytes,
           nwords, nunique);
    return rc;
}
