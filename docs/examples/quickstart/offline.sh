flask db upgrade --sql > upgrade.sql             # base to head, as one SQL script
flask db downgrade --sql head:base > downgrade.sql
