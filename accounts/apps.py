from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("账号与登录")

    def ready(self) -> None:
        from accounts import signals  # noqa: F401 — connects the sign-in receiver
        from accounts.selectors import member_sign_in_states
        from organizations.sections import MemberExtension, member_extension_register

        member_extension_register(
            MemberExtension(_("登录安全"), "accounts/partials/member_security.html", member_sign_in_states)
        )
