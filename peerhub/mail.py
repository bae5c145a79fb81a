"""The development mailer: e-mails printed for a person to read and copy from.

Django's console backend prints the MIME message as sent, so a long line of the text part is
quoted-printable and wrapped at 76 characters with "=" (a verification link copied from two lines
gives a 404), and non-ASCII text is encoded. This one prints the headers that matter and the text
body as written, one link per line, and says which alternatives (HTML) were left out."""

from django.core.mail.backends.console import EmailBackend


class ConsoleEmailBackend(EmailBackend):
    def write_message(self, message):
        lines = [
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
        ]
        if message.cc:
            lines.append(f"Cc: {', '.join(message.cc)}")
        lines.append(f"Subject: {message.subject}")
        for name, value in (message.extra_headers or {}).items():
            lines.append(f"{name}: {value}")
        alternatives = [mimetype for _content, mimetype in getattr(message, "alternatives", [])]
        if alternatives:
            lines.append(f"(Also sent as: {', '.join(alternatives)}; not shown here.)")
        lines += ["", str(message.body).rstrip("\n"), "-" * 79, ""]
        self.stream.write("\n".join(lines))
