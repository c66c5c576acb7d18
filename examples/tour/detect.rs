//! Tour stop: detectors over free text. No server here: a log line goes through the scanner.

use safeguard::detect::Scanner;

pub async fn run() -> Result<(), super::http::Error> {
    super::http::heading("Detectors: one log line, five secrets");
    let line = "2024-03-01T12:00:00Z POST /checkout card=4111-1111-1111-1111 ssn=123-45-6789 \
                iban=DE89 3704 0044 0532 0130 00 \
                jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.mfCzDsDHzl5PojFk0nZlOMdXjA3Ue0aVb8pNYKUJxEo \
                aws=AKIAIOSFODNN7EXAMPLE order=1234567890123456";
    let scanner = Scanner::new();
    println!("  in:  {line}");
    for f in scanner.find(line.as_bytes()) {
        let value = &line[f.span.clone()];
        let shown = format!("{}…", &value[..value.len().min(6)]);
        println!(
            "    {:<18} {:<10} bytes {:>3}..{:<3} {shown}",
            f.kind,
            f.class.name(),
            f.span.start,
            f.span.end
        );
    }
    println!("  out: {}", scanner.redact_str(line));
    println!("  (order=1234567890123456 stays: it fails the Luhn check)");
    Ok(())
}
