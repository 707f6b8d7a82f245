"""Mediation's REST API under /mediation/v1."""

from fastapi import APIRouter

from shared.auth import CurrentUser
from shared.runtime import ServiceRuntime

# 纠纷类型 (configuration data; the dispute workflow builds on it)
DISPUTE_TYPES = [
    {"code": "family", "name": "婚姻家庭", "name_en": "Marriage and family"},
    {"code": "neighbour", "name": "邻里", "name_en": "Neighbours"},
    {"code": "property", "name": "物业", "name_en": "Property management"},
    {"code": "labour", "name": "劳资 / 欠薪", "name_en": "Labour and unpaid wages"},
    {"code": "housing_land", "name": "房屋宅基地", "name_en": "Housing and homesteads"},
    {"code": "damages", "name": "损害赔偿", "name_en": "Damages"},
    {"code": "contract", "name": "合同债务", "name_en": "Contracts and debts"},
    {"code": "land_transfer", "name": "土地流转", "name_en": "Land transfer"},
    {"code": "consumer", "name": "消费", "name_en": "Consumer"},
    {"code": "other", "name": "其他", "name_en": "Other"},
]


def router(rt: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["人民调解 mediation"])

    @api.get("/dispute-types", summary="纠纷类型 dispute types")
    def dispute_types(user: CurrentUser) -> list[dict]:
        return DISPUTE_TYPES

    return api
