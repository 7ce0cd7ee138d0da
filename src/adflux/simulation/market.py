"""Colombian labour-market figures the simulation is anchored to (COP per month)."""

from __future__ import annotations

# Salario mínimo mensual legal vigente 2026 (decreed December 2025).
MINIMUM_WAGE = 1_423_500
# Candidates state round expectations.
SALARY_ROUNDING = 50_000
# Above this nobody in the simulated population asks; keeps the log-normal tail bounded.
MAXIMUM_EXPECTED_SALARY = 45_000_000
