"""E-mail: Jinja2 templates in Turkish and English, SMTP sending (aiosmtplib), and the development mail sink."""
