"""What identity shows of a user and a sign-in."""

from shared.auth import User as Principal

from .directory import units_of
from .models import User
from .schemas import Me, TokenPair
from .tokens import Issued


def token_pair(issued: Issued) -> TokenPair:
    return TokenPair(access_token=issued.access_token, expires_in=issued.expires_in,
                     refresh_token=issued.refresh_token, refresh_expires_in=issued.refresh_expires_in,
                     session_id=issued.session_id, user_id=issued.user.id, role=issued.user.role)


def me(user: User, principal: Principal) -> Me:
    return Me(id=user.id, kind=user.kind, role=user.role, unit_codes=units_of(user), username=user.username,
              display_name=user.display_name, phone_verified=user.phone_index is not None,
              wechat_linked=user.wechat_openid is not None, session_id=principal.session_id)
