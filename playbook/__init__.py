"""temporal-playbook: declarative YAML playbooks for Temporal."""

__version__ = "0.1.0"
