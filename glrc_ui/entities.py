"""Every workflow entity, registered explicitly at start-up (cli.prepare), not by a lazy import.
A new machine (persons, applications) adds its service's register_entity() here."""
from glrc_ui.services import applications, persons, units


def register_all() -> None:
    units.register_entity()
    persons.register_entity()
    applications.register_entity()
