"""Which AWS account a request acts in, as moto itself decides it, and fixed
ids for the accounts Organizations creates.

moto keeps every account's resources apart and picks the account of a
request from its access key (``moto.iam.models.get_account_id_from``): a key
that STS ``AssumeRole`` issued for ``arn:aws:iam::ACCOUNT:role/NAME`` acts in
ACCOUNT, and so does a key ``CreateAccessKey`` made for a user of ACCOUNT;
any other key acts in the default account 123456789012. The harness needs
the same answer *before* moto sees the request (to match a fault to an
account, to count requests in flight per account) and when it records a
CloudTrail event, so it asks moto the same question and caches the answer:
an access key never changes account, and moto's lookup walks every
partition's IAM backend of every known account.

moto's ``CreateAccount`` gives a new account twelve random digits. Tests
and the benchmark want to know the ids in advance (a fixture names
``arn:aws:iam::111111111111:role/...``), so ``queue_account_ids`` lines up
the ids the next ``CreateAccount`` calls get, in order; with the queue
empty, ids are random again (emulator.py's
``POST /_harness/organizations/account-ids``).
"""
import collections
import threading

from moto.iam.models import get_account_id_from
from moto.organizations import utils as organizations_utils
from moto.organizations.models import OrganizationsBackend
from moto.sts.models import sts_backends

DEFAULT_ACCOUNT = "123456789012"  # moto's default account

_lock = threading.Lock()
_accounts = {}  # access key -> account id
_sessions = {}  # access key -> (role ARN, session name), for keys STS issued


def account_of(access_key, moto_account_header=None):
    """The account ``access_key`` acts in. moto's ``x-moto-account-id``
    request header wins over the key, as it does in moto."""
    if moto_account_header:
        return moto_account_header
    if not access_key:
        return DEFAULT_ACCOUNT
    with _lock:
        account = _accounts.get(access_key)
    if account is None:
        account = get_account_id_from(access_key)
        with _lock:
            _accounts[access_key] = account
    return account


def assumed_role(access_key):
    """``(role ARN, session name)`` when STS ``AssumeRole`` issued
    ``access_key``, else None. moto files the session under the account the
    role is in, in the STS backend of the caller's partition."""
    with _lock:
        if access_key in _sessions:
            return _sessions[access_key]
    account = account_of(access_key)
    found = None
    for backend in list(sts_backends[account].values()):
        role = backend.get_assumed_role_from_access_key(access_key)
        if role is not None:
            found = (role.role_arn, role.session_name)
            break
    if found is not None:  # a key unknown now may be issued later: not cached
        with _lock:
            _sessions[access_key] = found
    return found


def forget():
    """Drops the cached answers: after ``POST /moto-api/reset`` moto knows
    none of the keys it issued."""
    with _lock:
        _accounts.clear()
        _sessions.clear()


# -- Organizations' account ids ------------------------------------------------
_queued_ids = collections.deque()
_pending = threading.local()  # the id the CreateAccount on this thread takes
_random_account_id = organizations_utils.make_random_account_id


def queue_account_ids(ids):
    """Queues ``ids`` (12 digits each) for the next ``CreateAccount`` calls;
    returns the whole queue."""
    if not isinstance(ids, list):
        raise ValueError("a JSON list of account ids")
    bad = [i for i in ids if not (isinstance(i, str) and len(i) == 12 and i.isdigit())]
    if bad:
        raise ValueError(f"account ids are 12 digits: {bad}")
    with _lock:
        _queued_ids.extend(ids)
        return list(_queued_ids)


def _next_account_id():
    queued = getattr(_pending, "id", None)
    if queued:
        _pending.id = None
        return queued
    return _random_account_id()


def _install():
    """Only ``CreateAccount`` takes from the queue: ``CreateOrganization``
    also makes an account object (the management account's, whose random id
    it then overwrites), which must not use up a queued id."""
    backend = OrganizationsBackend
    if getattr(backend.create_account, "harness_queued", False):
        return  # imported twice (the bench loads the harness under another name)
    create_account = backend.create_account

    def queued_create_account(self, **kwargs):
        with _lock:  # no organization: moto refuses before it makes an id
            _pending.id = _queued_ids.popleft() if _queued_ids and self.org is not None else None
        try:
            return create_account(self, **kwargs)
        finally:
            _pending.id = None

    queued_create_account.harness_queued = True
    backend.create_account = queued_create_account
    # FakeAccount calls ``utils.make_random_account_id()`` through the
    # module, so replacing the module attribute reaches it.
    organizations_utils.make_random_account_id = _next_account_id


_install()
