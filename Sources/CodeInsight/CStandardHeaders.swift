/// Headers of the C and C++ standard libraries and of POSIX, for `#include <…>` classification.
enum CStandardHeaders {
    /// Header names as written between `<` and `>`.
    static let names: Set<String> = [
        // C
        "assert.h", "complex.h", "ctype.h", "errno.h", "fenv.h", "float.h", "inttypes.h", "iso646.h", "limits.h",
        "locale.h", "math.h", "setjmp.h", "signal.h", "stdalign.h", "stdarg.h", "stdatomic.h", "stdbool.h",
        "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "stdnoreturn.h", "string.h", "tgmath.h", "threads.h",
        "time.h", "uchar.h", "wchar.h", "wctype.h",
        // POSIX and common system headers
        "unistd.h", "fcntl.h", "pthread.h", "dirent.h", "dlfcn.h", "poll.h", "sched.h", "semaphore.h", "spawn.h",
        "strings.h", "syslog.h", "termios.h", "netdb.h", "pwd.h", "grp.h", "glob.h", "fnmatch.h", "regex.h",
        "libgen.h", "getopt.h", "malloc.h", "alloca.h", "endian.h", "execinfo.h", "ifaddrs.h", "langinfo.h",
        "iconv.h", "utime.h", "utmp.h", "wordexp.h", "aio.h", "mqueue.h", "search.h", "err.h", "features.h",
        "link.h", "elf.h", "ucontext.h", "sysexits.h", "paths.h", "stdio_ext.h", "sys/types.h", "windows.h",
        // C++
        "algorithm", "any", "array", "atomic", "barrier", "bit", "bitset", "cassert", "cctype", "cerrno", "cfenv",
        "cfloat", "charconv", "chrono", "cinttypes", "climits", "clocale", "cmath", "codecvt", "compare", "complex",
        "concepts", "condition_variable", "coroutine", "csetjmp", "csignal", "cstdarg", "cstddef", "cstdint",
        "cstdio", "cstdlib", "cstring", "ctime", "cuchar", "cwchar", "cwctype", "deque", "exception", "execution",
        "expected", "filesystem", "format", "forward_list", "fstream", "functional", "future", "initializer_list",
        "iomanip", "ios", "iosfwd", "iostream", "istream", "iterator", "latch", "limits", "list", "locale", "map",
        "memory", "memory_resource", "mutex", "new", "numbers", "numeric", "optional", "ostream", "print", "queue",
        "random", "ranges", "ratio", "regex", "scoped_allocator", "semaphore", "set", "shared_mutex",
        "source_location", "span", "sstream", "stack", "stacktrace", "stdexcept", "stop_token", "streambuf",
        "string", "string_view", "syncstream", "system_error", "thread", "tuple", "type_traits", "typeindex",
        "typeinfo", "unordered_map", "unordered_set", "utility", "valarray", "variant", "vector", "version",
    ]
}
