//! The leak scanner: a pure engine that looks at the first bytes of an error body and says whether
//! they carry leaked internals (stack traces, SQL errors, file paths, connection strings, private
//! addresses).
//!
//! It takes bytes and gives a verdict; it knows nothing of HTTP. Patterns are compiled once
//! (`regex::bytes`, linear time, no backtracking), so any input is scanned in time proportional to
//! its length, and the scanner never looks past its window.

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::{Regex, RegexBuilder};

/// The default number of leading body bytes the scanner looks at (16 KiB).
pub const DEFAULT_SCAN_WINDOW: usize = 16 * 1024;

/// What kind of internals a body leaks.
///
/// ```
/// use safeguard::errors::scan::{scan, LeakKind};
/// let leak = scan(b"ORA-00942: table or view does not exist").unwrap();
/// assert_eq!(leak.kind, LeakKind::SqlError);
/// assert_eq!(leak.kind.as_str(), "sql_error");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeakKind {
    /// A stack trace, backtrace or panic message (Rust, Java, Python, Node, .NET, Go, PHP, Ruby).
    StackTrace,
    /// A database error message or an echoed SQL statement.
    SqlError,
    /// A server filesystem path or source location.
    FilesystemPath,
    /// A database or service connection string, or a URL carrying credentials.
    ConnectionString,
    /// A private, loopback or link-local network address, or a cluster-internal host name.
    PrivateAddress,
    /// An internal error dump: OS error codes, `Debug`-printed error structs, qualified exception
    /// class names.
    InternalError,
}

impl LeakKind {
    /// A stable snake_case name, used in logs.
    ///
    /// ```
    /// assert_eq!(safeguard::errors::scan::LeakKind::StackTrace.as_str(), "stack_trace");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            LeakKind::StackTrace => "stack_trace",
            LeakKind::SqlError => "sql_error",
            LeakKind::FilesystemPath => "filesystem_path",
            LeakKind::ConnectionString => "connection_string",
            LeakKind::PrivateAddress => "private_address",
            LeakKind::InternalError => "internal_error",
        }
    }
}

/// A finding: the kind of the leftmost leak and its byte span.
///
/// ```
/// use safeguard::errors::scan::{scan, LeakKind};
/// let body = b"oops: goroutine 1 [running]:\nmain.main()";
/// let leak = scan(body).unwrap();
/// assert_eq!(leak.kind, LeakKind::StackTrace);
/// assert_eq!(&body[leak.span], b"goroutine 1 [running]:");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leak {
    /// What was found.
    pub kind: LeakKind,
    /// Where, in the scanned bytes.
    pub span: Range<usize>,
}

// One alternation per kind; the order here is the order of `KINDS`. Each alternative is written
// to match what runtimes and drivers actually print, not ordinary prose: validation messages such
// as "email must be a valid address" or "Invalid date 2024-13-01" must not match.
const STACK_TRACE: &str = concat!(
    // Rust
    r"panicked at|[Ss]tack backtrace:|RUST_BACKTRACE=|called `(?:Option|Result)::(?:unwrap|expect)",
    r"|has overflowed its stack",
    r"|(?:\\[tn] *|\b)at [\w./\\-]+\.rs:\d+:\d+",
    r"|\b\d+: (?:std|core|alloc|tokio|hyper|axum|tower)::[\w:<>]+",
    // Java / JVM
    r"|(?:\\[tn] *|\b)at [\w$]+(?:\.[\w$<>]+)+\((?:[\w$-]+\.(?:java|kt|scala|groovy|clj):\d+|Native Method|Unknown Source)\)",
    r#"|Exception in thread \\?""#,
    r"|Caused by:(?:\s|\\n)",
    r"|\.\.\. \d+ (?:more|common frames omitted)",
    // Python
    r"|Traceback \(most recent call last\)",
    r#"|File \\?"[^"\n]+\\?", line \d+"#,
    r"|\b(?:KeyError|ValueError|TypeError|AttributeError|IndexError|ZeroDivisionError|ImportError|ModuleNotFoundError|NameError|RuntimeError|AssertionError|UnboundLocalError|RecursionError|StopIteration|OSError|IOError|FileNotFoundError|PermissionError): .",
    r"|\b(?:django|sqlalchemy|psycopg2?|pymysql|werkzeug|flask|fastapi|starlette|pydantic_core)\.[\w.]*(?:[Ee]rror|[Ee]xception)\b",
    // Node.js
    r"|(?:\\[tn] *|\b)at (?:async )?(?:new )?[\w$.<>\[\] ]*\((?:/|[A-Za-z]:\\|file://|node:)[^()\n]*:\d+:\d+\)",
    r"|(?:\\[tn] *|\b)at (?:async )?(?:/|file://|node:)[^\s()]+:\d+:\d+",
    r"|\b(?:TypeError|ReferenceError|SyntaxError|RangeError): [^\n]*?(?:\n|\\n)\s*at ",
    r"|node_modules[/\\]|Require stack:|UnhandledPromiseRejection",
    // .NET
    r"|(?:\\[tn] *|\b)at [\w.`<>+\[\]]+\([^)\n]*\) in [^\n]+:line \d+",
    r"|--- End of (?:inner exception )?stack trace",
    r"|\b(?:System|Microsoft)\.(?:[A-Z]\w*\.)*[A-Z]\w*Exception\b",
    // Go
    r"|goroutine \d+ \[[\w ,]+\]:",
    r"|(?:(?m:^)|\\n)panic: ",
    r"|fatal error: (?:all goroutines are asleep|concurrent map)",
    r"|\.\(\*\w+\)\.\w+",
    r"|runtime error: ",
    r"|\.go:\d+ \+0x[0-9a-f]+",
    // PHP
    r"|(?:Fatal|Parse) error: [^\n]* on line \d+",
    r"|PHP (?:Fatal error|Warning|Notice|Parse error|Stack trace)",
    r"|Stack trace:",
    r"|#\d+ (?:/|[A-Za-z]:\\)[^\n(]+\.php\(\d+\)",
    r"|\.php(?: on line \d+|:\d+|\(\d+\))",
    r"|Uncaught [\w\\]*(?:Exception|Error)\b",
    // Python frames as some pages print them (HTML-escaped quotes)
    r"|, line \d+, in [\w<>]+",
    // Ruby
    r"|\.rb:\d+:in `|undefined method `[^`'\n]*' for nil|for nil:NilClass|\bActiveRecord::\w+",
    // Elixir / Erlang
    r"|\*\* \((?:[A-Z]\w*\.)*[A-Z]\w*(?:Error|Exception)\)",
    // C and C++ runtimes
    r"|Segmentation fault|core dumped|terminate called after throwing|std::(?:bad_alloc|runtime_error|logic_error|out_of_range|invalid_argument)\b",
    // ASP.NET error page
    r"|Server Error in '/[^'\n]*' Application",
    // JVM exception class names and frames without a file
    r"|\b(?:java|javax|jakarta|org|com|net|io)\.(?:[\w$]+\.)+[\w$]*(?:Exception|Error)\b",
    r"|\bat [\w$]+(?:\.[\w$]+){2,}\(",
    // Generic
    r"|(?i:stack[ _-]?trace)|\bbacktrace\b",
    // Python OS errors
    r"|\[Errno -?\d+\]",
);

const SQL_ERROR: &str = concat!(
    // PostgreSQL
    r#"relation \\?"[^"\n]+\\?" does not exist"#,
    r#"|column \\?"[^"\n]+\\?"(?: of relation \\?"[^"\n]+\\?")? does not exist"#,
    r"|\bERROR:\s+(?:relation|column|syntax error|duplicate key|null value|insert or update|update or delete|permission denied|invalid input|operator does not exist|function [\w.]+\(|current transaction|deadlock detected|value too long)",
    r"|SQLSTATE",
    r"|duplicate key value violates unique constraint",
    r"|violates (?:foreign key|not-null|check|unique|exclusion) constraint",
    r"|syntax error at or near",
    r"|\bPSQLException|\bpq: |\bPG::\w+",
    // MySQL / MariaDB
    r"|You have an error in your SQL syntax",
    r"|\bER_[A-Z][A-Z_]{2,}",
    r"|(?:MySQL|MariaDB) server version",
    r"|Unknown column '[^'\n]+' in '",
    r"|Table '[^'\n]+' doesn't exist",
    r"|Duplicate entry '[^'\n]*' for key",
    r"|\bERROR \d{4} \([0-9A-Z]{5}\)",
    r"|\bmysqli?_[a-z_]+\(|MySqlException|MySQLSyntaxErrorException",
    // SQLite
    r"|\bSQLITE_[A-Z]+",
    r"|\bno such (?:table|column|function): ",
    r#"|near \\?"[^"\n]*\\?": syntax error"#,
    r"|(?:UNIQUE|NOT NULL|FOREIGN KEY|CHECK) constraint failed",
    r"|\bsqlite3?\.\w*(?:Error|Exception)",
    // Oracle
    r"|\b(?:ORA|PLS|TNS)-\d{5}",
    // SQL Server
    r"|\bMsg \d+, Level \d+",
    r"|Unclosed quotation mark after the character string",
    r"|Incorrect syntax near",
    r"|Invalid object name '",
    r"|\bSqlException\b|OLE DB Provider|ODBC (?:SQL Server )?Driver",
    // Rust drivers and ORMs
    r"|error returned from database",
    r"|error occurred while (?:attempting to establish|decoding|communicating with)",
    r"|pool timed out while waiting for an open connection",
    r"|\b(?:sqlx|diesel|sea_orm|tokio_postgres|rusqlite|mysql_async)::",
    r"|\b(?:Pg|MySql|Sqlite)DatabaseError\b",
    // Go database/sql, Go MySQL driver, generic driver wording
    r"|\bsql: (?:no rows in result set|database is closed|transaction has already been)",
    r"|\bError \d{4}(?: \([0-9A-Z]{5}\))?: ",
    r"|\bSQL (?:Error|error|Exception)\b|\bSQLCODE\b",
    r"|FATAL:\s+(?:password authentication failed|role \\?\x22|database \\?\x22|no pg_hba\.conf entry|the database system)",
    r"|Is the server running on host|Can't connect to (?:MySQL|local MySQL) server",
    r"|Login failed for user '|statement conflicted with the|\bdbo\.\w+",
    r"|\bcolumn \w+\.\w+ does not exist",
    // MongoDB, Redis, Elasticsearch
    r"|\bE11000\b|\bMongo(?:Server|Network|Bulk|Write)?(?:Error|Exception)\b",
    r"|WRONGTYPE Operation|NOAUTH Authentication required|\bredis\.exceptions\.",
    r"|\b[a-z]+(?:_[a-z]+)*_exception\b",
    // Echoed SQL statements (upper-case keywords only, so prose like "select a value from the
    // list" is not taken for SQL)
    r#"|\bSELECT\s+(?:\*|DISTINCT\b|COUNT\(|["\w.]+(?:\s*,\s*["\w.]+)*)\s+FROM\s+["\w.]+"#,
    r#"|\bINSERT\s+INTO\s+["\w.]+|\bDELETE\s+FROM\s+["\w.]+|\bUPDATE\s+["\w.]+\s+SET\s+["\w]+\s*="#,
);

const FILESYSTEM_PATH: &str = concat!(
    r"(?:^|[^\w/.-])/(?:home|Users)/[\w.-]+/",
    r"|(?:^|[^\w/.-])/(?:var|usr|etc|opt|srv|root|proc|sys|mnt|private|nix|snap|tmp)/[\w.-]+",
    r"|(?:^|[^\w/.-])/app/(?:src|lib|node_modules|target|dist|vendor|build|app|bin)\b",
    r"|/target/(?:debug|release)/|/\.cargo/(?:registry|git)/|/rustc/[0-9a-f]{7,40}/",
    r"|\bsrc/[\w/.-]*\.rs\b",
    r"|\.(?:rs|go|py|java|kt|php|rb|cs|cpp|cc|c|h|js|mjs|cjs|ts|ex|exs|scala):\d+",
    r"|site-packages[/\\]|WEB-INF[/\\]|\binetpub\\",
    r"|\b[A-Za-z]:(?:\\\\|\\|/)(?:Users|Windows|Program Files|ProgramData|inetpub|Projects|src|app|home|build|workspace|repos|Temp)(?:\\\\|\\|/)",
    r"|\\\\[\w.-]+\\[\w$.-]+\\",
    r"|\b[A-Za-z]:(?:\\\\|\\)[\w .$-]+(?:\\\\|\\)[\w .$-]+",
    r"|(?:^|[^\w/.-])/app/[\w.-]+\.(?:js|ts|py|rb|php|json|ya?ml|toml|env|rs|go|java|cs|ini|conf|cfg|log)\b",
    r"|(?:^|[^\w/.-])/workspace/|/builds/[\w.-]+/",
    r"|(?:^|[\s\x22'(=:])/(?:[\w.-]+/){2,}[\w.-]+\.(?:rs|go|py|pyc|rb|php|java|class|jar|kt|scala|cs|dll|so|exs?|toml|ya?ml|env|ini|conf|cfg|log|sql|sh|pem|key)\b",
);

const CONNECTION_STRING: &str = concat!(
    r"(?i:\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|clickhouse|cassandra|couchdb|neo4j(?:\+s)?|nats|kafka|memcached?|ldaps?|sqlite|cockroachdb|elasticsearch)://)",
    r"|(?i:\bjdbc:[a-z0-9]+:)",
    r"|\b[a-zA-Z][\w+.-]*://[^/\s:@]+:[^/\s@]+@",
    r"|(?i:\b(?:password|pwd)\s*=\s*[^;\s]+\s*(?:;|$))",
    r"|(?i:\b(?:server|data source|host)\s*=\s*[^;\n]+;[^\n]*\b(?:user id|uid|initial catalog|database|password)\s*=)",
    r"|(?i:\b(?:AccountKey|SharedAccessKey|DefaultEndpointsProtocol)=)",
    r"|\bDATABASE_URL\b",
    r"|\.(?:rds|cache|redshift)\.amazonaws\.com\b|\.database\.windows\.net\b|\.documents\.azure\.com\b",
    r"|\b[A-Z][A-Z0-9_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|ACCESS_KEY)[A-Z0-9_]*\s*=",
);

const PRIVATE_ADDRESS: &str = concat!(
    r"\b10\.\d{1,3}\.\d{1,3}\.\d{1,3}\b",
    r"|\b172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}\b",
    r"|\b192\.168\.\d{1,3}\.\d{1,3}\b",
    r"|\b169\.254\.\d{1,3}\.\d{1,3}\b",
    r"|\b127\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d{1,5})?\b",
    r"|\blocalhost:\d{2,5}\b|\[::1\](?::\d+)?|\b0\.0\.0\.0:\d{1,5}\b",
    r"|(?i:\bf[cd][0-9a-f]{2}:(?:[0-9a-f]{0,4}:){1,6}[0-9a-f]{0,4})",
    r"|(?i:\bfe80::[0-9a-f:]*)",
    r"|\.svc\.cluster\.local\b|\.(?:ec2|compute)\.internal\b",
    r"|\b[\w-]+\.internal(?::\d{2,5})?\b|\b[\w-]+\.local:\d{2,5}\b",
);

const INTERNAL_ERROR: &str = concat!(
    r"\(os error \d+\)",
    r"|\bOs \{ code: \d+",
    r"|\b(?:Error|Custom) \{ kind: \w+",
    r"|\barn:aws:[\w-]+:[\w-]*:\d{12}:",
    r"|\b(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EADDRINUSE|EHOSTUNREACH|EPIPE|EACCES|ENOENT)\b",
    r"|\(0x[0-9A-Fa-f]{8}\)",
);

const KINDS: [LeakKind; 6] = [
    LeakKind::StackTrace,
    LeakKind::SqlError,
    LeakKind::FilesystemPath,
    LeakKind::ConnectionString,
    LeakKind::PrivateAddress,
    LeakKind::InternalError,
];

const PATTERNS: [&str; 6] = [
    STACK_TRACE,
    SQL_ERROR,
    FILESYSTEM_PATH,
    CONNECTION_STRING,
    PRIVATE_ADDRESS,
    INTERNAL_ERROR,
];

struct Compiled {
    /// Every pattern of every kind in one leftmost-first alternation: one pass finds the leftmost
    /// leak (a lazy DFA, several times faster than asking a set which patterns match).
    any: Regex,
    /// One regex per kind, to name the kind of the span `any` found.
    each: Vec<Regex>,
}

// ASCII classes: `\w` and `[^"]` over bytes, so the automata stay small and invalid UTF-8 is
// scanned like any other byte.
const FLAGS: &str = "(?-u)";

static COMPILED: LazyLock<Option<Compiled>> = LazyLock::new(|| {
    // The patterns are constants covered by the unit tests; if one ever failed to compile, the
    // scanner reports every body as leaking (see `scan`), which fails closed.
    let build = |p: &str| {
        RegexBuilder::new(p)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(DFA_LIMIT)
            .build()
            .ok()
    };
    let any = build(&format!("{FLAGS}(?:{})", PATTERNS.join("|")))?;
    let each = PATTERNS
        .iter()
        .map(|p| build(&format!("{FLAGS}{p}")))
        .collect::<Option<Vec<_>>>()?;
    Some(Compiled { any, each })
});

const SIZE_LIMIT: usize = 32 * 1024 * 1024;
const DFA_LIMIT: usize = 16 * 1024 * 1024;

/// Compiles the patterns now rather than on the first error response (the layer calls this when
/// it wraps a service). Returns whether the patterns are usable; if not, [`scan`] reports every
/// body as leaking.
///
/// ```
/// assert!(safeguard::errors::scan::warm_up());
/// ```
pub fn warm_up() -> bool {
    COMPILED.is_some()
}

/// Scans `bytes` (all of them: callers bound the window) and returns the leftmost leak found.
///
/// Works on any bytes, valid UTF-8 or not. Linear time in the input length.
///
/// ```
/// use safeguard::errors::scan::{scan, LeakKind};
/// assert_eq!(scan(b"email must be a valid address"), None);
/// let leak = scan(b"Traceback (most recent call last):\n  File \"app.py\", line 3").unwrap();
/// assert_eq!(leak.kind, LeakKind::StackTrace);
/// assert_eq!(leak.span.start, 0);
/// ```
pub fn scan(bytes: &[u8]) -> Option<Leak> {
    let Some(compiled) = COMPILED.as_ref() else {
        return Some(Leak {
            kind: LeakKind::InternalError,
            span: 0..0,
        });
    };
    let found = compiled.any.find(bytes)?;
    let span = found.range();
    // Name the kind: the first kind whose own pattern matches within the span (`is_match_at`
    // still sees the bytes before the span, so look-behind such as `\b` stays right).
    let kind = compiled
        .each
        .iter()
        .position(|re| re.is_match_at(&bytes[..span.end], span.start))
        .and_then(|i| KINDS.get(i).copied())
        .unwrap_or(LeakKind::InternalError);
    Some(Leak { kind, span })
}

/// An incremental scanner over a bounded window: feed chunks as they arrive, ask for the verdict
/// when the body ends or the window is full. The verdict is the same for every way of splitting
/// the same bytes into chunks.
///
/// ```
/// use safeguard::errors::scan::{LeakKind, WindowScanner};
/// let mut s = WindowScanner::new(64);
/// s.push(b"java.lang.NullPointerExc");
/// s.push(b"eption\n\tat com.acme.Svc.run(Svc.java:12)");
/// assert_eq!(s.verdict().unwrap().kind, LeakKind::StackTrace);
/// assert!(s.is_full() || s.buffered().len() <= 64);
/// ```
#[derive(Clone, Debug)]
pub struct WindowScanner {
    window: Vec<u8>,
    limit: usize,
    seen: usize,
}

impl WindowScanner {
    /// A scanner that looks at no more than `limit` leading bytes.
    ///
    /// ```
    /// let s = safeguard::errors::scan::WindowScanner::new(16);
    /// assert_eq!(s.limit(), 16);
    /// ```
    pub fn new(limit: usize) -> Self {
        Self {
            window: Vec::new(),
            limit,
            seen: 0,
        }
    }

    /// The window size.
    ///
    /// ```
    /// assert_eq!(safeguard::errors::scan::WindowScanner::new(8).limit(), 8);
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Adds a chunk; bytes past the window are counted but not kept. Returns how many bytes of
    /// `chunk` were taken into the window.
    ///
    /// ```
    /// let mut s = safeguard::errors::scan::WindowScanner::new(4);
    /// assert_eq!(s.push(b"abcdef"), 4);
    /// assert!(s.is_full());
    /// assert_eq!(s.seen(), 6);
    /// ```
    pub fn push(&mut self, chunk: &[u8]) -> usize {
        let room = self.limit.saturating_sub(self.window.len());
        let take = room.min(chunk.len());
        self.window.extend_from_slice(&chunk[..take]);
        self.seen = self.seen.saturating_add(chunk.len());
        take
    }

    /// Whether the window is full.
    ///
    /// ```
    /// let mut s = safeguard::errors::scan::WindowScanner::new(2);
    /// assert!(!s.is_full());
    /// s.push(b"ab");
    /// assert!(s.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.window.len() >= self.limit
    }

    /// Total bytes pushed, including those past the window.
    ///
    /// ```
    /// let mut s = safeguard::errors::scan::WindowScanner::new(2);
    /// s.push(b"abc");
    /// assert_eq!(s.seen(), 3);
    /// ```
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// The bytes kept in the window.
    ///
    /// ```
    /// let mut s = safeguard::errors::scan::WindowScanner::new(2);
    /// s.push(b"abc");
    /// assert_eq!(s.buffered(), b"ab");
    /// ```
    pub fn buffered(&self) -> &[u8] {
        &self.window
    }

    /// The verdict over the window so far.
    ///
    /// ```
    /// let mut s = safeguard::errors::scan::WindowScanner::new(1024);
    /// s.push(b"name is required");
    /// assert_eq!(s.verdict(), None);
    /// ```
    pub fn verdict(&self) -> Option<Leak> {
        scan(&self.window)
    }

    /// Takes the window's bytes out, leaving the scanner empty.
    ///
    /// ```
    /// let mut s = safeguard::errors::scan::WindowScanner::new(8);
    /// s.push(b"hi");
    /// assert_eq!(s.take(), b"hi".to_vec());
    /// assert!(s.buffered().is_empty());
    /// ```
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile() {
        for p in PATTERNS {
            RegexBuilder::new(&format!("{FLAGS}{p}"))
                .size_limit(SIZE_LIMIT)
                .build()
                .unwrap();
        }
        assert!(COMPILED.is_some());
    }
}
