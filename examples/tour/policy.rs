pub async fn run() -> Result<(), super::http::Error> {
    Ok(())
}
