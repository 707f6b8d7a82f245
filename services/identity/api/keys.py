"""The public keys of identity's tokens (JWKS): what every service verifies tokens with."""

from fastapi import APIRouter, Response

from .deps import Keys

router = APIRouter(tags=["密钥 keys"])


@router.get("/.well-known/jwks.json", summary="令牌公钥（JWKS）the public keys tokens are signed with",
            description="轮换期间同时发布新旧两把公钥。During a rotation both keys are published.")
def jwks(keys: Keys, response: Response) -> dict:
    response.headers["Cache-Control"] = "public, max-age=300"
    return keys.jwks()
