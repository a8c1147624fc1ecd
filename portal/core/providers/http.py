"""The one place that makes outbound HTTP requests to PM vendors.

- One pooled `requests.Session` per connection, with connect and read timeouts
  and a User-Agent naming the project.
- 429 waits as `Retry-After` (or ClickUp's `X-RateLimit-Reset`) says, up to a
  bound, then fails as RateLimited. 502/503/504 and connection resets are
  retried with backoff for idempotent requests only.
- The outbound address guard: a base URL must be https. Every new connection
  resolves the host name itself, checks every address the name resolved to
  against the rule in portal.core.address_rule, and then connects to a checked
  address only (TLS still verifies the certificate for, and sends SNI with, the
  host name). A refused address opens no socket, so closed and open ports look
  the same, and a DNS answer that changes between check and connect can't get
  in. Redirects are followed only on the same origin. `ALLOWED_PROVIDER_HOSTS`
  lets an operator allow named hosts, over http too.
- Every logical request (retries, connect, headers and body together) has a total
  deadline (VENDOR_DEADLINE_SECONDS): the watchdog of deadline.py shuts the socket down when it
  passes, so a server dripping its headers or body can't hold a thread longer.
  The body is read in chunks and refused past VENDOR_MAX_RESPONSE_BYTES, before
  it is all in memory.
- `OUTBOUND_CA_BUNDLE` adds certificate authorities to the trusted ones (an
  intranet CA); the public ones stay trusted.
- Failures become the classes in errors.py, with the vendor's own message.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family, create_connection

from ..address_rule import why_blocked
from ..redaction import redact, secret_forms
from . import errors
from .base import is_number
from .deadline import Deadline

log = logging.getLogger(__name__)

USER_AGENT = "pm-mcp-server/0.1 (+self-hosted MCP server for project management)"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})
MAX_REDIRECTS = 3


@dataclass(frozen=True)
class HttpPolicy:
    """Process-wide outbound rules; built once from Settings."""

    allowed_hosts: tuple[str, ...] = ()
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_rate_limit_wait: float = 10.0
    retries: int = 2
    backoff: float = 0.5
    user_agent: str = USER_AGENT
    # A PEM file of extra certificate authorities to trust, besides the default ones.
    ca_bundle: str | None = None
    # One logical request, from connect to the last byte of the body, retries included.
    deadline: float = 30.0
    max_response_bytes: int = 5 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Any) -> HttpPolicy:
        """The policy for the portal and the worker, from Settings."""
        return cls(
            allowed_hosts=settings.allowed_provider_hosts,
            ca_bundle=settings.outbound_ca_bundle,
            deadline=settings.vendor_deadline_seconds,
            max_response_bytes=settings.vendor_max_response_bytes,
        )

    def host_allowed(self, host: str, port: int | None) -> bool:
        """True when an operator listed this host (any port) or this host:port."""
        host = host.lower().strip("[]")
        for entry in self.allowed_hosts:
            entry = entry.lower()
            if entry == host:
                return True
            if port is not None and entry in (f"{host}:{port}", f"[{host}]:{port}"):
                return True
        return False


def _describe_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is off-limits, or None when it is a public address."""
    return why_blocked(ip)


def _refusal(host: str, address: str, why: str) -> errors.AddressNotAllowed:
    shown = host if host == address else f"{host} ({address})"
    return errors.AddressNotAllowed(
        f"{shown} is {why}; requests to internal addresses are refused. "
        "An administrator can allow this server with ALLOWED_PROVIDER_HOSTS."
    )


def check_address(host: str, address: str, policy: HttpPolicy, port: int | None = None) -> None:
    """Raise AddressNotAllowed unless `address` (what `host` resolved to) may be contacted."""
    if policy.host_allowed(host, port):
        return
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        raise errors.AddressNotAllowed(
            f"{host} resolved to {address!r}, which is not an IP address."
        ) from None
    why = _describe_address(ip)
    if why:
        raise _refusal(host, address, why)


def check_url(url: str, policy: HttpPolicy, *, resolve: bool = True) -> None:
    """Validate a base URL before use: https (unless allowed), a host, and public addresses.

    The same address rule is applied again to every socket the session opens,
    so a name that later resolves elsewhere is still refused.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise errors.AddressNotAllowed(f"{url!r} is not a valid URL.") from None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise errors.AddressNotAllowed("The URL must start with https:// and name a server.")
    if parts.username or parts.password:
        raise errors.AddressNotAllowed("Put credentials in the token field, not in the URL.")
    allowed = policy.host_allowed(host, port)
    if parts.scheme != "https" and not allowed:
        raise errors.AddressNotAllowed(
            f"{url} does not use https. Use the https:// address; an administrator can allow a plain-http "
            "intranet server with ALLOWED_PROVIDER_HOSTS."
        )
    if allowed or not resolve:
        return
    try:
        infos = socket.getaddrinfo(
            host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except socket.gaierror:
        raise errors.Unreachable(f"The server name {host} could not be resolved. Check the URL.") from None
    for info in infos:
        check_address(host, str(info[4][0]), policy, port)


def resolve_checked(host: str, port: int, policy: HttpPolicy) -> list[str]:
    """Resolve `host` and return its addresses once every one of them passed the rule.

    A name with any non-public address is refused as a whole: mixing a public and
    an internal answer is what a rebinding attack looks like. Raises socket.gaierror
    when the name doesn't resolve, AddressNotAllowed when an address is refused.
    """
    infos = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        check_address(host, address, policy, port)
    return addresses


# The deadline of the vendor request this thread is making, for the connections it uses.
_current = threading.local()


_Connection = TypeVar("_Connection", bound=HTTPConnection)


def _guarded_connection(base: type[_Connection], policy: HttpPolicy) -> type[_Connection]:
    class GuardedConnection(base):  # type: ignore[misc, valid-type]
        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            deadline: Deadline | None = getattr(_current, "deadline", None)
            if deadline is not None and self.sock is not None:
                deadline.watch(self.sock)
            return super().getresponse(*args, **kwargs)

        def _new_conn(self) -> socket.socket:
            if policy.host_allowed(self.host, self.port):
                return super()._new_conn()
            try:
                addresses = resolve_checked(self._dns_host, self.port, policy)
            except socket.gaierror as exc:
                raise NameResolutionError(self.host, self, exc) from exc
            # Connect to the checked addresses themselves, never to the name again.
            failure: OSError | None = None
            for address in addresses:
                try:
                    sock = create_connection(
                        (address, self.port),
                        self.timeout,
                        source_address=self.source_address,
                        socket_options=self.socket_options,
                    )
                except OSError as exc:  # TimeoutError included; the next address may answer
                    failure = exc
                else:
                    return sock
            if isinstance(failure, TimeoutError):
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from failure
            raise NewConnectionError(self, f"Failed to establish a new connection: {failure}") from failure

    return GuardedConnection


class GuardedAdapter(HTTPAdapter):
    """A transport adapter whose every new socket passes the address guard."""

    def __init__(self, policy: HttpPolicy, **kwargs: Any):
        self._policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        policy = self._policy
        if policy.ca_bundle:
            kwargs["ssl_context"] = _context_with_extra_authorities(policy.ca_bundle)
        super().init_poolmanager(*args, **kwargs)

        class Pool(HTTPConnectionPool):
            ConnectionCls = _guarded_connection(HTTPConnection, policy)

        class TLSPool(HTTPSConnectionPool):
            ConnectionCls = _guarded_connection(HTTPSConnection, policy)

        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}


def _context_with_extra_authorities(ca_bundle: str) -> ssl.SSLContext:
    """The default TLS context, trusting the authorities in `ca_bundle` as well (requests adds its own)."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=ca_bundle)
    return context


ErrorDescriber = Callable[[requests.Response], tuple[str | None, dict[str, str]]]
"""Pull the vendor's message and field errors out of an error response."""


def _default_describe(response: requests.Response) -> tuple[str | None, dict[str, str]]:
    try:
        body = response.json()
    except ValueError:
        return None, {}
    if isinstance(body, dict):
        for key in ("message", "error", "err", "errorMessage"):
            if isinstance(body.get(key), str):
                return body[key], {}
    return None, {}


def retry_after_seconds(response: requests.Response, now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset (unix time)."""
    now = time.time() if now is None else now
    value = response.headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            reset_at = float(reset)
        except ValueError:
            return None
        if reset_at > 1e11:  # some vendors send milliseconds
            reset_at /= 1000
        return max(0.0, reset_at - now)
    return None


class ProviderHttp:
    """A vendor API client bound to one connection: base URL, auth, pooled session.

    `vendor` names the product in messages ("JIRA", "ClickUp"). Auth is given as
    headers or a requests auth object; neither ever appears in a message.
    """

    def __init__(
        self,
        base_url: str,
        *,
        vendor: str,
        policy: HttpPolicy,
        headers: Mapping[str, str] | None = None,
        auth: Any = None,
        describe_error: ErrorDescriber | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.vendor = vendor
        self.policy = policy
        self._describe = describe_error or _default_describe
        self._sleep = sleep
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme, parts.hostname, parts.port)
        session = requests.Session()
        session.trust_env = False  # an environment proxy would bypass the address guard
        adapter = GuardedAdapter(policy, pool_connections=2, pool_maxsize=8, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = policy.user_agent
        session.headers["Accept"] = "application/json"
        if headers:
            session.headers.update(headers)
        session.auth = auth
        self.session = session
        # What the credentials look like on the wire, to blot out of any message a vendor echoes them in.
        forms: set[str] = set()
        for value in (headers or {}).values():
            forms.update(secret_forms(value))
            scheme, _, rest = value.partition(" ")
            if rest and scheme.lower() in ("bearer", "basic", "token"):
                forms.update(secret_forms(rest))
        if isinstance(auth, requests.auth.HTTPBasicAuth):
            forms.update(secret_forms(str(auth.password), str(auth.username)))
        self.secret_forms = tuple(sorted(forms, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """`text` without this connection's credentials in any form."""
        return redact(text, self.secret_forms)

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url, path.lstrip("/"))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        ok: Iterable[int] = (),
        stream: bool = False,
    ) -> requests.Response:
        """Send one logical request and return a 2xx (or `ok`) response, or raise a ProviderError.

        `idempotent` defaults from the method; only idempotent requests are retried
        on 502/503/504 or a dropped connection. A 429 is waited out (within the
        policy's bound) for any method, since the vendor did not process it.
        With `stream`, the body is left unread for the caller to read (and close), outside the
        deadline and the size cap; otherwise both apply to the whole request.
        """
        deadline = Deadline(self.policy.deadline)
        _current.deadline = deadline
        try:
            response = self._request(
                method, path, params, json, data, headers, idempotent, ok, stream, deadline
            )
            if not stream:
                self._read_body(response, deadline)
            if deadline.expired:  # cut off by the watchdog: what was read is not the whole answer
                response.close()
                raise self._past_deadline()
            return response
        except (requests.exceptions.RequestException, OSError) as exc:
            if deadline.passed():
                raise self._past_deadline() from None
            raise errors.Unavailable(
                f"The answer from {self.vendor} at {self._host()} was cut off: {_short_reason(exc)}."
            ) from None
        except errors.ProviderError as exc:
            if deadline.expired:
                raise self._past_deadline() from None
            scrub(exc, self.redact)
            raise
        finally:
            _current.deadline = None
            deadline.cancel()

    def _past_deadline(self) -> errors.TimedOut:
        return errors.TimedOut(
            f"{self.vendor} at {self._host()} did not finish answering within {self.policy.deadline:g} "
            "seconds (the limit per request, VENDOR_DEADLINE_SECONDS)."
        )

    def _read_body(self, response: requests.Response, deadline: Deadline) -> None:
        """Read the body in chunks, within the deadline and the size cap; keep it on the response."""
        limit = self.policy.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if is_number(declared) and int(declared) > limit:
            response.close()
            raise self._too_large()
        body = bytearray()
        try:
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise self._too_large()
                if deadline.passed():
                    raise self._past_deadline()
        finally:
            response.close()
        response._content = bytes(body)  # what requests itself keeps once the body is read

    def _too_large(self) -> errors.ResponseTooLarge:
        limit = self.policy.max_response_bytes
        return errors.ResponseTooLarge(
            f"{self.vendor} at {self._host()} sent an answer larger than {_size(limit)} "
            f"(the limit per response, VENDOR_MAX_RESPONSE_BYTES={limit}); it was not read."
        )

    def _request(
        self,
        method: str,
        path: str,
        params: Any,
        json: Any,
        data: Any,
        headers: Mapping[str, str] | None,
        idempotent: bool | None,
        ok: Iterable[int],
        stream: bool,
        deadline: Deadline,
    ) -> requests.Response:
        # Checked on every request, not only when the URL was saved: the policy may have changed.
        check_url(self.base_url, self.policy, resolve=False)
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self.url(path)
        ok_statuses = set(ok)
        attempts = 0
        waited = 0.0
        redirects = 0
        while True:
            attempts += 1
            if deadline.passed():
                raise self._past_deadline()
            left = max(0.1, deadline.remaining())
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    timeout=(min(self.policy.connect_timeout, left), min(self.policy.read_timeout, left)),
                    allow_redirects=False,
                    stream=True,
                )
            except errors.AddressNotAllowed:
                raise
            except requests.exceptions.SSLError as exc:
                raise errors.TLSFailure(
                    f"The TLS (https) handshake with {self._host()} failed: {_short_reason(exc)}. "
                    "Check the URL and the server's certificate."
                ) from None
            except requests.exceptions.Timeout:
                if deadline.passed():
                    raise self._past_deadline() from None
                if idempotent and attempts <= self.policy.retries and method == "GET":
                    self._sleep(self.policy.backoff * attempts)
                    continue
                raise errors.TimedOut(
                    f"{self.vendor} at {self._host()} did not answer within "
                    f"{self.policy.read_timeout:g} seconds."
                ) from None
            except requests.exceptions.ConnectionError as exc:
                guard = _find_cause(exc, errors.AddressNotAllowed)
                if guard is not None:
                    raise guard from None
                if deadline.passed():
                    raise self._past_deadline() from None
                if idempotent and attempts <= self.policy.retries:
                    self._sleep(self.policy.backoff * attempts)
                    continue
                raise errors.Unreachable(
                    f"Could not connect to {self.vendor} at {self._host()}: {_short_reason(exc)}. "
                    "Check the URL and that the server is up."
                ) from None
            except requests.exceptions.RequestException as exc:
                raise errors.Unavailable(
                    f"The request to {self.vendor} failed: {_short_reason(exc)}."
                ) from None

            status = response.status_code
            if 300 <= status < 400 and "Location" in response.headers and status not in ok_statuses:
                response.close()
                target = urljoin(url, response.headers["Location"])
                target_parts = urlsplit(target)
                if (target_parts.scheme, target_parts.hostname, target_parts.port) != self._origin:
                    raise errors.NotThisProduct(
                        f"{self.vendor} at {self._host()} redirected to another server "
                        f"({target_parts.hostname}); redirects to other hosts are not followed. "
                        "Check the base URL."
                    )
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise errors.NotThisProduct(f"{self.vendor} at {self._host()} redirected too many times.")
                url = target
                if status == 303:
                    method, json, data = "GET", None, None
                continue
            if status == 429:
                wait = retry_after_seconds(response)
                budget = self.policy.max_rate_limit_wait - waited
                if wait is not None and wait <= budget and wait < deadline.remaining():
                    response.close()
                    waited += wait
                    self._sleep(wait)
                    continue
                response.close()
                raise errors.RateLimited(
                    f"{self.vendor} is rate limiting requests"
                    + (f"; retry after {wait:.0f} seconds." if wait is not None else "; retry in a minute."),
                    retry_after=wait,
                )
            if status in RETRYABLE_STATUSES and idempotent and attempts <= self.policy.retries:
                response.close()
                self._sleep(self.policy.backoff * attempts)
                continue
            if 200 <= status < 300 or status in ok_statuses:
                return response
            # An error body is read under the same limits before its message is taken.
            self._read_body(response, deadline)
            raise self.error_for(response)

    def error_for(self, response: requests.Response) -> errors.ProviderError:
        """Translate an error response into the error tree, keeping the vendor's words."""
        status = response.status_code
        try:
            message, field_errors = self._describe(response)
        except Exception:  # a malformed error body must not hide the status
            message, field_errors = None, {}
        said = f": {message}" if message else ""
        if status == 401:
            return errors.AuthenticationFailed(
                f"{self.vendor} rejected the credentials (401){said}", status=status
            )
        if status == 403:
            return errors.PermissionDenied(f"{self.vendor} refused this request (403){said}", status=status)
        if status == 404:
            return errors.NotFound(f"{self.vendor} found no such object (404){said}", status=status)
        if status in (409, 412):
            return errors.Conflict(f"{self.vendor} reported a conflict ({status}){said}", status=status)
        if status in (400, 422):
            return errors.InvalidInput(
                f"{self.vendor} refused the values given ({status}){said}",
                field_errors=field_errors,
                status=status,
            )
        if status == 429:
            return errors.RateLimited(
                f"{self.vendor} is rate limiting requests", retry_after=retry_after_seconds(response)
            )
        if status >= 500:
            return errors.Unavailable(f"{self.vendor} had a server error ({status}){said}", status=status)
        return errors.ProviderError(f"{self.vendor} answered {status}{said}", status=status)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Like request(), returning the decoded JSON body (None for an empty body)."""
        response = self.request(method, path, **kwargs)
        return self.decode(response)

    def decode(self, response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown content").split(";")[0]
            raise errors.NotThisProduct(
                f"{self._host()} answered with {kind}, not the {self.vendor} API. Check the base URL."
            ) from None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.json("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.json("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.json("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.json("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.json("DELETE", path, **kwargs)

    def _host(self) -> str:
        scheme, host, port = self._origin
        return f"{host}:{port}" if port else str(host)


def scrub(exc: errors.ProviderError, redact_text: Callable[[str], str]) -> None:
    """Blot credentials out of an error's message and field errors, in place."""
    exc.message = redact_text(exc.message)
    exc.args = (exc.message,)
    field_errors = getattr(exc, "field_errors", None)
    if isinstance(field_errors, dict):
        for key, value in list(field_errors.items()):
            if isinstance(value, str):
                field_errors[key] = redact_text(value)


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MB" if count >= 1024 * 1024 else f"{count / 1024:g} KB"


def _find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """Walk an exception's causes and contexts (and urllib3's `reason`) for one of `kind`."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return None


def _short_reason(exc: BaseException) -> str:
    """A one-line reason from a requests/urllib3 exception, without URLs or headers."""
    reason = _find_cause(exc, ssl.SSLError)
    if reason is not None:
        return getattr(reason, "reason", None) or type(reason).__name__
    for kind, text in (
        (ConnectionRefusedError, "connection refused"),
        (ConnectionResetError, "connection reset"),
        (socket.gaierror, "the server name could not be resolved"),
        (TimeoutError, "timed out"),
    ):
        if _find_cause(exc, kind) is not None:
            return text
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "NameResolutionError" in text or "Name or service not known" in text:
        return "the server name could not be resolved"
    if "Connection refused" in text:
        return "connection refused"
    return type(exc).__name__
