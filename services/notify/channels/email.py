"""Email over SMTP (stdlib smtplib), one connection per batch."""

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..config import EmailConfig
from .base import Outgoing, Result


class EmailChannel:
    def __init__(self, config: EmailConfig, timeout: float = 10):
        self.config, self.timeout = config, timeout

    def send(self, batch: list[Outgoing]) -> list[Result]:
        try:
            smtp = smtplib.SMTP(self.config.host, self.config.port, timeout=self.timeout)
        except OSError as exc:
            return [Result("retry", reason=f"email: {type(exc).__name__}")] * len(batch)
        try:
            if self.config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.config.username:
                smtp.login(self.config.username, self.config.password or "")
            return [self.send_one(smtp, m) for m in batch]
        except (smtplib.SMTPException, OSError) as exc:
            return [Result("retry", reason=f"email: {type(exc).__name__}")] * len(batch)
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()

    def send_one(self, smtp: smtplib.SMTP, m: Outgoing) -> Result:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = m.address
        msg["Subject"] = m.title
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(idstring=m.message_id, domain=self.config.sender.split("@")[-1])
        msg.set_content(m.body)
        try:
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            return Result("retry" if 400 <= code < 500 else "failed", reason=f"email: recipient refused {code}")
        except smtplib.SMTPResponseException as exc:
            return Result("retry" if 400 <= exc.smtp_code < 500 else "failed", reason=f"email: {exc.smtp_code}")
        return Result("sent", provider_message_id=msg["Message-ID"])
