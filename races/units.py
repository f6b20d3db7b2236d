"""Racing's imperial units, in metres: distances are stored in metres and shown in furlongs."""

METRES_PER_FURLONG = 201.168
METRES_PER_YARD = 0.9144
