"""The real processes for sign-in tests: the portal under hypercorn (as the Procfile runs it), the worker, an
https server on 127.0.0.1 holding client metadata documents (its certificate from a test certificate
authority that the portal is told to trust), and a browser played with `requests`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portal.core.toolsets import DEFAULT_TOOLSETS

from .flow import form_token, query_of


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A certificate authority and a server certificate it signed for 127.0.0.1 and localhost:
    (CA bundle, certificate chain, private key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pm-mcp test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_path, cert_path, key_path


@dataclass
class DocumentServer:
    """https on 127.0.0.1: serves JSON documents by path, and counts the requests for each."""

    cert: Path
    key: Path
    documents: dict[str, dict] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    port: int = 0

    def start(self) -> None:
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_GET(self):  # noqa: N802 - http.server's naming
                server_self.hits[self.path] = server_self.hits.get(self.path, 0) + 1
                document = server_self.documents.get(self.path)
                body = json.dumps(document).encode() if document is not None else b"{}"
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Browser:
    """A person at a browser: signs in to the portal when asked, and answers the consent page."""

    def __init__(self, email: str, password: str):
        self.session = requests.Session()
        self.email = email
        self.password = password
        self.consent_pages: list[str] = []

    def authorize(self, url: str, **choices) -> str:
        """Follow an authorization URL through sign-in and consent; return where the portal sends the
        browser back to (the client's redirect URI with code or error)."""
        page = self.session.get(url, timeout=10)
        if 'name="password"' in page.text:
            page = self.session.post(
                page.url,
                data={"csrf_token": form_token(page.text), "email": self.email, "password": self.password},
                timeout=10,
            )
        assert page.status_code == 200, page.text[:2000]
        self.consent_pages.append(page.text)
        data = {
            "csrf_token": form_token(page.text),
            "decision": "allow",
            "connections_mode": "all",
            "toolsets": sorted(DEFAULT_TOOLSETS),
            "access": "write",
            "duration": "30",
        }
        data.update(choices)
        answer = self.session.post(page.url, data=data, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:2000]
        return answer.headers["Location"]

    def post_form(self, page_url: str, action_url: str, data: dict | None = None) -> requests.Response:
        page = self.session.get(page_url, timeout=10)
        return self.session.post(
            action_url, data={"csrf_token": form_token(page.text), **(data or {})}, timeout=10
        )


def code_result(location: str):
    from mcp.shared.auth import AuthorizationCodeResult

    query = query_of(location)
    return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))
