"""T/CEC 102 ``Ret`` codes (the complete set: there is no Ret 1 or 2)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType


class Ret(IntEnum):
    BUSY = -1
    OK = 0
    SIGNATURE = 4001
    TOKEN = 4002
    POST_PARAMS = 4003
    BUSINESS_PARAMS = 4004
    SYSTEM = 500


#: The standard's wording of each code, used as ``Msg`` by the reference platforms.
RET_MESSAGES: Mapping[int, str] = MappingProxyType(
    {
        Ret.BUSY: "系统繁忙，此时请求方稍后重试",
        Ret.OK: "请求成功",
        Ret.SIGNATURE: "签名错误",
        Ret.TOKEN: "Token错误",
        Ret.POST_PARAMS: "POST参数不合法，缺少必需参数",
        Ret.BUSINESS_PARAMS: "请求的业务参数不合法",
        Ret.SYSTEM: "系统错误",
    }
)


def ret_name(code: object) -> str:
    """``4001 (签名错误)`` for messages; unknown codes as they are."""
    try:
        return f"{int(code)} ({RET_MESSAGES[int(code)]})"  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        return repr(code)
