"""The ``[wecom]`` configuration section (validated at start with the rest of ``bot.config``).

Secrets are ``SecretStr``: they never show in a repr, a log line or a validation message.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from bot.texts import wecom as T
from bot.transports.wecom.crypto import aes_key


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_NAME = r"^[A-Za-z0-9_.-]{1,40}$"  # part of an account name: no spaces, no colon


class WecomBot(_Section):
    """An intelligent bot (智能机器人) in API callback mode: staff @-mention it in internal
    groups or write to it privately; account ``wecom:<name>``."""

    name: str = Field("staff", pattern=_NAME)
    token: SecretStr
    encoding_aes_key: SecretStr
    bot_name: str = "支部助手"            # the name staff @-mention (removed from the text)
    # What WeCom appends to each encrypted payload: empty for an intelligent bot (the CorpID
    # for a self-built app's callback).
    receive_id: str = ""
    callback_path: str = Field("/wecom/callback/staff", pattern=r"^/[A-Za-z0-9_./-]*$")

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key(cls, value: SecretStr) -> SecretStr:
        aes_key(value.get_secret_value())  # raises the Chinese explanation
        return value


class WecomHook(_Section):
    """A group robot webhook (消息推送) posting into one internal group; account
    ``wecom-hook:<name>``. The group is bound to ``compound`` at start."""

    name: str = Field(pattern=_NAME)
    key: SecretStr
    topic: str = Field(min_length=1, max_length=128)   # how the group is listed (the robot cannot read it)
    compound: str | None = None     # a compound's duty group …
    community: str | None = None    # … or a community's: it serves every compound of the community
    markdown: bool = False
    per_minute: int = Field(20, ge=1, le=20)  # WeCom allows 20 messages a minute per robot

    @model_validator(mode="after")
    def _one_scope(self) -> "WecomHook":
        if self.compound and self.community:
            raise ValueError(T.HOOK_ONE_SCOPE.format(name=self.name))
        return self


class WecomCustomerGroup(_Section):
    chat_id: str = Field(min_length=1, max_length=128)
    topic: str = Field(min_length=1, max_length=128)
    compound: str


class WecomCustomerContact(_Section):
    """Notices into customer groups (客户群) through 客户联系 group-send tasks that ``sender``
    (the groups' owner) confirms in the WeCom app; account ``wecom-cg:<name>``."""

    name: str = Field("notices", pattern=_NAME)
    secret: SecretStr                     # the 客户联系 secret
    sender: str = Field(min_length=1)     # userid of the staff member who confirms the sends
    groups: list[WecomCustomerGroup] = []
    remind_after_hours: float = Field(4, gt=0)     # unconfirmed this long: remind (≤3 a day)
    give_up_after_hours: float = Field(72, gt=0)   # unconfirmed this long: the delivery failed
    poll_minutes: float = Field(10, gt=0)


class WecomSettings(_Section):
    api_base: str = Field("https://qyapi.weixin.qq.com", pattern=r"^https?://")
    corp_id: str | None = None
    # A self-built app (自建应用): lets the bot write to a staff member privately when no reply
    # URL of theirs is still valid (the intelligent bot cannot start a conversation).
    agent_id: int | None = None
    agent_secret: SecretStr | None = None
    bot: WecomBot | None = None
    hooks: list[WecomHook] = []
    customer_contact: WecomCustomerContact | None = None
    timeout_seconds: float = Field(10, gt=0)

    def configured(self) -> bool:
        return bool(self.bot or self.hooks or self.customer_contact)

    @field_validator("hooks")
    @classmethod
    def _unique_hooks(cls, hooks: list[WecomHook]) -> list[WecomHook]:
        names = [h.name for h in hooks]
        if len(names) != len(set(names)):
            raise ValueError("企业微信群机器人的 name 不能重复")
        return hooks

    @model_validator(mode="after")
    def _corp_id_where_needed(self) -> "WecomSettings":
        if (self.agent_id is None) != (self.agent_secret is None):
            raise ValueError(T.NEEDS_AGENT)
        if not self.corp_id:
            if self.agent_id is not None:
                raise ValueError(T.NEEDS_CORP_ID.format(what="自建应用（agent_id）"))
            if self.customer_contact is not None:
                raise ValueError(T.NEEDS_CORP_ID.format(what="客户群通知（customer_contact）"))
        return self
