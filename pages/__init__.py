"""Pages: one module per menu area, each with register(). Thin: services do the work."""


def register_all() -> None:
    from components import errors
    from pages import (
        account,
        applications,
        files,
        home,
        login,
        messages,
        person,
        register,
        review_applications,
        review_units,
        unit,
        unit_persons,
    )
    errors.install()
    for module in (login, register, home, account, messages, files, unit, review_units, person, unit_persons,
                   applications, review_applications):
        module.register()
