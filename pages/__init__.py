"""Pages: one module per menu area, each with register(). Thin: services do the work."""


def register_all() -> None:
    from pages import account, files, home, login, messages
    for module in (login, home, account, messages, files):
        module.register()
