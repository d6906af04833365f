"""``tcec102.platform``: the bench as calling platform against a T/CEC 102 operator platform."""
