"""Channel adapters (Telegram, Zalo, web chat): they translate, the core decides."""
