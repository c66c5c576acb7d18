//! Shared corpus for the SanitizeErrors tests: leaked bodies by class, and clean messages.
#![allow(dead_code)]

use safeguard::errors::scan::LeakKind;

/// Leaked bodies, by the class the scanner must report.
pub const LEAKS: &[(LeakKind, &str)] = &[
    // Rust
    (
        LeakKind::StackTrace,
        "thread 'tokio-runtime-worker' panicked at src/main.rs:12:5:\nindex out of bounds",
    ),
    (
        LeakKind::StackTrace,
        "stack backtrace:\n   0: rust_begin_unwind\n   1: core::panicking::panic_fmt",
    ),
    (
        LeakKind::StackTrace,
        "called `Option::unwrap()` on a `None` value",
    ),
    (
        LeakKind::StackTrace,
        "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
    ),
    (
        LeakKind::StackTrace,
        "  12: axum::routing::route::Route<E>::call\n             at /home/ci/.cargo/registry/src/axum-0.8.4/src/routing/route.rs:40:9",
    ),
    // Java
    (
        LeakKind::StackTrace,
        "java.lang.NullPointerException\n\tat com.acme.orders.OrderService.place(OrderService.java:42)\n\tat com.acme.Web.handle(Web.java:7)",
    ),
    (
        LeakKind::StackTrace,
        "Exception in thread \"main\" java.lang.IllegalStateException: boom",
    ),
    (
        LeakKind::StackTrace,
        "{\"error\":\"java.lang.RuntimeException: x\\n\\tat com.x.Y.run(Y.java:12)\"}",
    ),
    (
        LeakKind::StackTrace,
        "Caused by: org.postgresql.util.PSQLException: connection refused",
    ),
    (
        LeakKind::StackTrace,
        "\tat kotlinx.coroutines.DispatchedTask.run(DispatchedTask.kt:108)",
    ),
    // Python
    (
        LeakKind::StackTrace,
        "Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 33, in get\n    return d[k]\nKeyError: 'user'",
    ),
    (
        LeakKind::StackTrace,
        "  File \"app.py\", line 3, in <module>",
    ),
    (
        LeakKind::StackTrace,
        "{\"detail\": \"Traceback (most recent call last):\\n  File \\\"x.py\\\", line 3\"}",
    ),
    (LeakKind::StackTrace, "ZeroDivisionError: division by zero"),
    (
        LeakKind::StackTrace,
        "django.db.utils.OperationalError: could not connect",
    ),
    // Node
    (
        LeakKind::StackTrace,
        "TypeError: Cannot read properties of undefined (reading 'id')\n    at Object.<anonymous> (/app/x.js:1:2)",
    ),
    (
        LeakKind::StackTrace,
        "    at Module._compile (node:internal/modules/cjs/loader:1105:14)",
    ),
    (
        LeakKind::StackTrace,
        "    at async /usr/src/app/routes/users.js:18:20",
    ),
    (
        LeakKind::StackTrace,
        "Error: read failed\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)",
    ),
    // .NET
    (
        LeakKind::StackTrace,
        "System.NullReferenceException: Object reference not set to an instance of an object.\n   at Acme.Api.Controllers.Orders.Get(Int32 id) in C:\\src\\Acme\\Orders.cs:line 5",
    ),
    (
        LeakKind::StackTrace,
        "   at Acme.Svc.Run() in /build/Acme/Svc.cs:line 88",
    ),
    (
        LeakKind::StackTrace,
        "--- End of stack trace from previous location ---",
    ),
    (
        LeakKind::StackTrace,
        "Microsoft.EntityFrameworkCore.DbUpdateException: An error occurred",
    ),
    // Go
    (
        LeakKind::StackTrace,
        "goroutine 1 [running]:\nmain.main()\n\t/home/u/app/main.go:12 +0x1d",
    ),
    (
        LeakKind::StackTrace,
        "panic: runtime error: invalid memory address or nil pointer dereference",
    ),
    (
        LeakKind::StackTrace,
        "runtime error: index out of range [3] with length 3",
    ),
    // PHP
    (
        LeakKind::StackTrace,
        "PHP Fatal error:  Uncaught Error: Call to undefined function foo() in /var/www/html/index.php:3",
    ),
    (
        LeakKind::StackTrace,
        "Fatal error: Allowed memory size exhausted in /var/www/a.php on line 12",
    ),
    (
        LeakKind::StackTrace,
        "Stack trace:\n#0 /var/www/html/index.php(12): foo()\n#1 {main}",
    ),
    (
        LeakKind::StackTrace,
        "Uncaught PDOException: SQLSTATE[HY000]",
    ),
    // Ruby
    (LeakKind::StackTrace, "app/models/user.rb:12:in `save'"),
    // SQL: PostgreSQL
    (
        LeakKind::SqlError,
        "error returned from database: relation \"users\" does not exist",
    ),
    (
        LeakKind::SqlError,
        "ERROR:  relation \"accounts\" does not exist at character 15",
    ),
    (LeakKind::SqlError, "ERROR: column \"emial\" does not exist"),
    (
        LeakKind::SqlError,
        "duplicate key value violates unique constraint \"users_email_key\"",
    ),
    (LeakKind::SqlError, "SQLSTATE 23505"),
    (
        LeakKind::SqlError,
        "ERROR: syntax error at or near \"FROM\"",
    ),
    (
        LeakKind::SqlError,
        "insert or update on table \"orders\" violates foreign key constraint \"orders_user_fk\"",
    ),
    (
        LeakKind::SqlError,
        "pq: password authentication failed for user \"app\"",
    ),
    // MySQL
    (
        LeakKind::SqlError,
        "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1",
    ),
    (
        LeakKind::SqlError,
        "ER_NO_SUCH_TABLE: Table 'shop.orders' doesn't exist",
    ),
    (LeakKind::SqlError, "Unknown column 'emial' in 'field list'"),
    (
        LeakKind::SqlError,
        "Duplicate entry 'a@b.c' for key 'users.email'",
    ),
    (
        LeakKind::SqlError,
        "ERROR 1045 (28000): Access denied for user",
    ),
    // SQLite
    (LeakKind::SqlError, "SQLITE_ERROR: no such table: users"),
    (LeakKind::SqlError, "no such table: sessions"),
    (LeakKind::SqlError, "UNIQUE constraint failed: users.email"),
    (LeakKind::SqlError, "near \"SELEC\": syntax error"),
    // Oracle
    (
        LeakKind::SqlError,
        "ORA-00942: table or view does not exist",
    ),
    (
        LeakKind::SqlError,
        "ORA-01017: invalid username/password; logon denied",
    ),
    // SQL Server
    (
        LeakKind::SqlError,
        "Msg 208, Level 16, State 1, Line 1\nInvalid object name 'dbo.Users'.",
    ),
    (
        LeakKind::SqlError,
        "Unclosed quotation mark after the character string 'abc'.",
    ),
    (
        LeakKind::SqlError,
        "Incorrect syntax near the keyword 'WHERE'.",
    ),
    // Drivers and echoed SQL
    (
        LeakKind::SqlError,
        "error occurred while decoding column 3: mismatched types",
    ),
    (
        LeakKind::SqlError,
        "pool timed out while waiting for an open connection",
    ),
    (
        LeakKind::SqlError,
        "Database(PgDatabaseError { severity: Error, code: \"42P01\" })",
    ),
    (
        LeakKind::SqlError,
        "query failed: SELECT id, email FROM users WHERE id = $1",
    ),
    (LeakKind::SqlError, "INSERT INTO orders (id) VALUES (1)"),
    // Paths
    (
        LeakKind::FilesystemPath,
        "could not open /home/deploy/app/config.toml",
    ),
    (
        LeakKind::FilesystemPath,
        "template not found: /var/www/templates/x.html",
    ),
    (LeakKind::FilesystemPath, "cannot load /usr/lib/libssl.so.3"),
    (
        LeakKind::FilesystemPath,
        "reading /etc/app/secrets.yaml failed",
    ),
    (LeakKind::FilesystemPath, "in /app/src/handlers.rs"),
    (
        LeakKind::FilesystemPath,
        "C:\\Users\\build\\project\\appsettings.json not found",
    ),
    (
        LeakKind::FilesystemPath,
        "{\"e\":\"C:\\\\Users\\\\svc\\\\x.dll\"}",
    ),
    (LeakKind::FilesystemPath, "error in handlers.rs:88"),
    (LeakKind::FilesystemPath, "/opt/service/bin/run exited"),
    // Connection strings
    (
        LeakKind::ConnectionString,
        "cannot connect to postgres://app:hunter2@db:5432/prod",
    ),
    (LeakKind::ConnectionString, "mysql://root@db/shop"),
    (
        LeakKind::ConnectionString,
        "mongodb+srv://u:p@cluster0.mongodb.net/test",
    ),
    (
        LeakKind::ConnectionString,
        "Server=sql1;Database=Shop;User Id=sa;Password=P@ss;",
    ),
    (
        LeakKind::ConnectionString,
        "redis://cache:6379/0 unreachable",
    ),
    (LeakKind::ConnectionString, "jdbc:oracle:thin:@db:1521:ORCL"),
    (
        LeakKind::ConnectionString,
        "https://admin:s3cret@internal.example.com/x",
    ),
    // Private addresses
    (LeakKind::PrivateAddress, "upstream 10.0.3.17 timed out"),
    (LeakKind::PrivateAddress, "connect to 172.20.0.4 failed"),
    (LeakKind::PrivateAddress, "host 192.168.1.20 unreachable"),
    (LeakKind::PrivateAddress, "listening on 127.0.0.1:8080"),
    (LeakKind::PrivateAddress, "peer fd12:3456:789a::1 reset"),
    (LeakKind::PrivateAddress, "metadata at 169.254.169.254"),
    (
        LeakKind::PrivateAddress,
        "orders.default.svc.cluster.local refused",
    ),
    (LeakKind::PrivateAddress, "dial localhost:5432 failed"),
    // Internal error dumps
    (LeakKind::InternalError, "Connection refused (os error 111)"),
    (LeakKind::InternalError, "Error: getaddrinfo ENOTFOUND db"),
    // More runtimes and stores
    (
        LeakKind::StackTrace,
        "Error: failed to load config\n\nCaused by:\n    0: missing key",
    ),
    (
        LeakKind::StackTrace,
        "org.springframework.dao.DataIntegrityViolationException: could not execute statement",
    ),
    (
        LeakKind::StackTrace,
        "{\"timestamp\":\"2024-05-01T10:00:00Z\",\"status\":500,\"trace\":\"java.lang.NullPointerException\\n\\tat com.x.Y.z(Y.java:3)\"}",
    ),
    (
        LeakKind::StackTrace,
        "File &quot;x.py&quot;, line 3, in handler",
    ),
    (
        LeakKind::StackTrace,
        "NoMethodError (undefined method `name' for nil:NilClass)",
    ),
    (LeakKind::StackTrace, "** (RuntimeError) boom"),
    (
        LeakKind::StackTrace,
        "terminate called after throwing an instance of 'std::out_of_range'",
    ),
    (LeakKind::StackTrace, "Server Error in '/' Application."),
    (
        LeakKind::StackTrace,
        "Error: boom<br> &nbsp; &nbsp;at Layer.handle [as handle_request] (/srv/node_modules/express/lib/router/layer.js:95:5)",
    ),
    (LeakKind::SqlError, "sql: no rows in result set"),
    (
        LeakKind::SqlError,
        "Error 1146 (42S02): Table 'shop.carts' doesn't exist",
    ),
    (
        LeakKind::SqlError,
        "MongoServerError: E11000 duplicate key error collection: app.users index: email_1",
    ),
    (
        LeakKind::SqlError,
        "WRONGTYPE Operation against a key holding the wrong kind of value",
    ),
    (LeakKind::SqlError, "index_not_found_exception"),
    (
        LeakKind::SqlError,
        "ERROR: column users.emial does not exist",
    ),
    (
        LeakKind::InternalError,
        "Npgsql.PostgresException (0x80004005): 42P01: relation \"users\" does not exist",
    ),
    (LeakKind::FilesystemPath, "D:\\a\\build\\out.log"),
    (LeakKind::FilesystemPath, "cannot read /app/config.yaml"),
    (
        LeakKind::FilesystemPath,
        "loaded from /srv/releases/42/config/app.toml",
    ),
    (LeakKind::ConnectionString, "AWS_SECRET_ACCESS_KEY=abc123"),
    (
        LeakKind::PrivateAddress,
        "could not reach payments.internal:8443",
    ),
    (
        LeakKind::StackTrace,
        "thread 'main' has overflowed its stack",
    ),
    (
        LeakKind::StackTrace,
        "fatal error: all goroutines are asleep - deadlock!",
    ),
    (LeakKind::StackTrace, "created by net/http.(*Server).Serve"),
    (
        LeakKind::StackTrace,
        "Error: Cannot find module 'express'\nRequire stack:\n- index",
    ),
    (LeakKind::StackTrace, "ActiveRecord::RecordNotUnique"),
    (
        LeakKind::StackTrace,
        "{\"errors\":[{\"extensions\":{\"exception\":{\"stacktrace\":[\"x\"]}}}]}",
    ),
    (
        LeakKind::StackTrace,
        "Error: boom\n\nStack backtrace:\n   0: anyhow::error",
    ),
    (
        LeakKind::StackTrace,
        "ConnectionRefusedError: [Errno 111] Connection refused",
    ),
    (
        LeakKind::SqlError,
        "FATAL:  password authentication failed for user \"postgres\"",
    ),
    (
        LeakKind::SqlError,
        "could not connect to server: Connection refused. Is the server running on host \"db\"",
    ),
    (
        LeakKind::SqlError,
        "Can't connect to MySQL server on 'db' (111)",
    ),
    (LeakKind::SqlError, "Login failed for user 'sa'."),
    (
        LeakKind::SqlError,
        "Cannot insert duplicate key row in object 'dbo.Users'",
    ),
    (
        LeakKind::SqlError,
        "The INSERT statement conflicted with the FOREIGN KEY constraint",
    ),
    (LeakKind::SqlError, "DB2 SQL Error: SQLCODE=-204"),
    (
        LeakKind::ConnectionString,
        "timeout talking to prod.cluster-abc.us-east-1.rds.amazonaws.com",
    ),
    (
        LeakKind::InternalError,
        "Custom { kind: Other, error: \"boom\" }",
    ),
    (
        LeakKind::InternalError,
        "not authorized: arn:aws:iam::123456789012:role/app",
    ),
    (
        LeakKind::InternalError,
        "Os { code: 2, kind: NotFound, message: \"No such file or directory\" }",
    ),
];

/// Ordinary validation and client-error messages that must pass untouched.
pub const CLEAN: &[&str] = &[
    "email must be a valid address",
    "name is required",
    "value must be between 1 and 10",
    "Invalid date 2024-13-01",
    "quantity: expected a positive integer",
    "Path /docs/intro not found",
    "Not Found",
    "Unauthorized",
    "password must be at least 12 characters",
    "Please select a value from the list",
    "{\"error\":\"validation failed\",\"fields\":{\"email\":\"must be a valid address\"}}",
    "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"name is required\"}",
    "The order 12345 was not found",
    "Rate limit exceeded, retry in 30 seconds",
    "phone number must have 10 digits",
    "version 1.2.3 is not supported",
    "start must be before end (2024-01-01T10:00:00Z)",
    "username may only contain letters, digits and _",
    "Cannot GET /api/v2/orders/17",
    "file too large: max 10 MB",
    "Unsupported media type; expected application/json",
    "price must be greater than 0.00",
    "at least one item is required",
    "update your profile to continue",
    "The requested resource /users/42/avatar does not exist",
    "Too many requests: 100 per 60 s",
    "token expired at 2024-05-01 12:00:00",
    "invalid value for `limit`: 1000 exceeds 100",
    "Error: invalid coupon code",
    "the field 'items[3].sku' is invalid",
    "relation must be one of parent, child",
    "Cannot GET /static/js/app.js",
    "Only .jpg and .png files are allowed",
    "Use the format HH:MM",
    "expected 'YYYY-MM-DD', got '2024/01/01'",
    "Invalid JSON at line 1 column 5",
    "Unknown field `nickname`",
    "Duplicate email address",
    "This table is already reserved",
    "Service temporarily unavailable, please retry",
    "limit must be <= 100",
    "must match ^[a-z0-9_]+$",
    "The local time 10:30 is outside opening hours",
    "Invalid IP address 300.1.2.3",
    "coupon SUMMER-2024 has expired",
    "created by admin on 2024-01-01",
    "Login failed: wrong password",
    "This module is not part of your plan",
    "Item is out of stock",
];
