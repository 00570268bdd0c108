"""Grading for the planar-classification course.

The instructor's solutions live in one place, the solution regions of the source
notebook; ``reference`` loads them, ``cases`` draws hidden test cases and judges
results against them, ``incell`` runs those checks inside a notebook for stock
``nbgrader autograde``.
"""

ASSIGNMENT = "planar_data_classification"
# Editions of the assignment (one nbgrader assignment each); they share code, tests and
# hidden cases, so the same code gets the same scores in either.
EDITIONS = {ASSIGNMENT: "en", f"{ASSIGNMENT}_zh": "zh"}

# In the order the notebook introduces them.
GRADED_FUNCTIONS = (
    "layer_sizes",
    "initialize_parameters",
    "forward_propagation",
    "compute_cost",
    "backward_propagation",
    "update_parameters",
    "nn_model",
    "predict",
)
