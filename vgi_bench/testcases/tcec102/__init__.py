"""T/CEC 102 (互联互通) suites."""
