"""Email over SMTP (stdlib smtplib), one connection per batch.

A message is mailed with its title and body, except for a template with an email section (a code
that proves an address): that is rendered here from the message's values, opened by the sender
from their seal a moment before, so the code is in the mail and nowhere notify keeps it.
"""

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..config import EmailConfig
from ..templates import Catalogue, TemplateError
from .base import Outgoing, Result


class EmailChannel:
    def __init__(self, config: EmailConfig, catalogue: Catalogue | None = None, timeout: float = 10):
        self.config, self.catalogue, self.timeout = config, catalogue, timeout

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

    def content(self, m: Outgoing) -> tuple[str, str]:
        """Subject and text: the template's email section rendered now, or the message's title and body."""
        template = self.catalogue.templates.get(m.template) if self.catalogue is not None else None
        if template is not None and template.email:
            return self.catalogue.email(m.template, m.values, m.lang)
        return m.title, m.body

    def send_one(self, smtp: smtplib.SMTP, m: Outgoing) -> Result:
        try:
            subject, text = self.content(m)
        except TemplateError as exc:
            return Result("failed", reason=str(exc)[:200])
        msg = EmailMessage()
        try:
            msg["From"] = self.config.sender
            msg["To"] = m.address
            msg["Subject"] = subject
        except ValueError:  # an address no mail header can carry: no retry will change it
            return Result("failed", reason="email: address not usable in a header")
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(idstring=m.message_id, domain=self.config.sender.split("@")[-1])
        msg.set_content(text)
        try:
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            return Result("retry" if 400 <= code < 500 else "failed", reason=f"email: recipient refused {code}")
        except smtplib.SMTPResponseException as exc:
            return Result("retry" if 400 <= exc.smtp_code < 500 else "failed", reason=f"email: {exc.smtp_code}")
        except smtplib.SMTPNotSupportedError:  # e.g. a non-ASCII address the server takes no SMTPUTF8 for
            return Result("failed", reason="email: address not supported by the server")
        return Result("sent", provider_message_id=msg["Message-ID"])
