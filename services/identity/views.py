"""What identity shows of a user and a sign-in."""

import json

from shared.auth import ApiClient
from shared.auth import User as Principal
from shared.keys import DataKeys
from shared.masking import mask_phone

from . import api_keys
from .directory import units_of
from .models import ApiKey, SignInAttempt, User
from .schemas import ApiClientView, ApiKeyIssued, ApiKeyView, Me, SignInAttemptView, TokenPair, UserView
from .tokens import Issued


def token_pair(issued: Issued) -> TokenPair:
    return TokenPair(access_token=issued.access_token, expires_in=issued.expires_in,
                     refresh_token=issued.refresh_token, refresh_expires_in=issued.refresh_expires_in,
                     session_id=issued.session_id, user_id=issued.user.id, role=issued.user.role)


def me(user: User, principal: Principal) -> Me:
    return Me(id=user.id, kind=user.kind, role=user.role, unit_codes=units_of(user), username=user.username,
              display_name=user.display_name, phone_verified=user.phone_index is not None,
              wechat_linked=user.wechat_openid is not None, session_id=principal.session_id)


def user_view(user: User, sealing: DataKeys) -> UserView:
    """Never a password hash or a sealed phone: a resident's phone is opened only to be masked."""
    phone = mask_phone(sealing.open(user.phone_sealed, "phone")) if user.phone_sealed else None
    return UserView(id=user.id, kind=user.kind, role=user.role, unit_codes=units_of(user), username=user.username,
                    display_name=user.display_name, active=user.active, phone=phone,
                    wechat_linked=user.wechat_openid is not None, oidc_linked=user.oidc_subject is not None,
                    has_password=user.password_hash is not None, password_changed_at=user.password_changed_at,
                    locked_until=user.locked_until, last_sign_in_at=user.last_sign_in_at, created_at=user.created_at,
                    updated_at=user.updated_at)


def api_key_view(key: ApiKey) -> ApiKeyView:
    return ApiKeyView(id=key.id, name=key.name, scopes=json.loads(key.scopes), area_code=key.area_code,
                      created_by=key.created_by, created_at=key.created_at, expires_at=key.expires_at,
                      revoked_at=key.revoked_at, last_used_at=key.last_used_at)


def api_key_issued(issued: api_keys.Issued) -> ApiKeyIssued:
    return ApiKeyIssued(**api_key_view(issued.key).model_dump(), key=issued.secret)


def api_client(client: ApiClient) -> ApiClientView:
    return ApiClientView(key_id=client.key_id, name=client.name, scopes=sorted(client.scopes),
                         area_code=client.area_code)


def attempt_view(row: SignInAttempt) -> SignInAttemptView:
    return SignInAttemptView(id=row.id, at=row.at, method=row.method, result=row.result, user_id=row.user_id,
                             identifier_index=row.identifier_index, ip=row.ip, user_agent=row.user_agent,
                             request_id=row.request_id)
