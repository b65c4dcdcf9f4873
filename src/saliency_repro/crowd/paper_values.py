"""Numbers printed in Lu et al. (2024), typed in from the paper text (not computed here).

They are shown beside the recomputed values so that every cell where the release (or our own
run) and the printed paper disagree is visible. Keys are method ids of
:mod:`saliency_repro.names`; k columns are 5, 10, 20, 30, 40 words.
Table 3/4 cells are (accuracy %, rank); the last pair is (score %, rank).
"""

from __future__ import annotations

KS = (5, 10, 20, 30, 40)

# Table 3 (IMDB): per k (p_jk %, rank) and then (s_j %, rank)
TABLE3 = {
    "random": [(25, 8), (42, 6), (41, 8), (55, 6), (54, 6), (42.9, 7)],
    "all_attention": [(66, 3), (74, 3), (81, 2), (87, 1), (84, 3), (78.5, 3)],
    "last_attention": [(53, 4), (60, 4), (73, 3), (72, 4), (78, 4), (66.9, 4)],
    "vanilla_gradient": [(75, 1), (81, 1), (73, 3), (80, 2), (85, 2), (79.5, 2)],
    "input_x_grad": [(46, 6), (46, 5), (60, 5), (56, 5), (52, 7), (52.1, 6)],
    "integrated_gradients": [(74, 2), (81, 1), (87, 1), (80, 2), (87, 1), (82.3, 1)],
    "deeplift": [(52, 5), (37, 7), (60, 5), (52, 7), (67, 5), (53.5, 5)],
    "lime": [(30, 7), (28, 8), (47, 7), (48, 8), (44, 8), (39.0, 8)],
}

# Table 4 (AGNEWS)
TABLE4 = {
    "random": [(46, 7), (57, 8), (70, 5), (77, 7), (73, 8), (64.1, 7)],
    "all_attention": [(73, 2), (73, 2), (77, 2), (79, 3), (80, 2), (76.9, 2)],
    "last_attention": [(56, 6), (72, 3), (77, 2), (79, 3), (81, 1), (72.8, 4)],
    "vanilla_gradient": [(65, 3), (72, 3), (69, 6), (80, 2), (77, 4), (72.9, 3)],
    "input_x_grad": [(61, 4), (68, 5), (76, 4), (78, 6), (74, 7), (71.5, 5)],
    "integrated_gradients": [(79, 1), (81, 1), (87, 1), (79, 3), (80, 2), (82.0, 1)],
    "deeplift": [(61, 4), (61, 6), (69, 6), (72, 8), (77, 4), (68.1, 6)],
    "lime": [(33, 8), (61, 6), (69, 6), (82, 1), (75, 6), (62.9, 8)],
}

# Table 7: (Flips, Aids) per dataset ("IMBD" in the paper's header is IMDB)
TABLE7 = {
    "imdb": {
        "random": (42, 46), "all_attention": (18, 27), "last_attention": (27, 36),
        "vanilla_gradient": (31, 18), "input_x_grad": (54, 33),
        "integrated_gradients": (28, 20), "deeplift": (50, 34), "lime": (54, 42),
    },
    "agnews": {
        "random": (19, 41), "all_attention": (20, 19), "last_attention": (10, 39),
        "vanilla_gradient": (29, 26), "input_x_grad": (28, 26),
        "integrated_gradients": (15, 15), "deeplift": (23, 33), "lime": (23, 54),
    },
}

# Table 8 (IMDB, misclassified): correctly recognised samples out of 100, per k
TABLE8 = {
    "random": [19, 45, 43, 49, 38],
    "all_attention": [15, 25, 41, 35, 38],
    "last_attention": [12, 32, 35, 40, 37],
    "vanilla_gradient": [33, 39, 37, 31, 50],
    "input_x_grad": [28, 20, 45, 35, 43],
    "integrated_gradients": [21, 44, 31, 38, 30],
    "deeplift": [29, 25, 33, 44, 34],
    "lime": [14, 33, 36, 35, 34],
}

# Table 9 (AGNEWS, misclassified)
TABLE9 = {
    "random": [15, 20, 26, 23, 24],
    "all_attention": [24, 22, 16, 30, 26],
    "last_attention": [22, 25, 21, 25, 23],
    "vanilla_gradient": [29, 21, 23, 25, 23],
    "input_x_grad": [26, 30, 27, 20, 22],
    "integrated_gradients": [50, 40, 37, 34, 26],
    "deeplift": [28, 31, 21, 22, 21],
    "lime": [18, 22, 23, 25, 24],
}

# Section 4.1: expert-crowd agreement (%)
EXPERT_AGREEMENT = {"imdb": 86.0, "agnews": 93.0}

# Section 4.2 Q1 / Conclusion: significantly better than RANDOM on both datasets or not
SIGNIFICANTLY_BETTER_THAN_RANDOM = {
    "all_attention": True, "last_attention": True, "vanilla_gradient": True,
    "integrated_gradients": True, "input_x_grad": False, "deeplift": False, "lime": False,
}

BY_REF = {"lu2024/table3": TABLE3, "lu2024/table4": TABLE4,
          "lu2024/table8": TABLE8, "lu2024/table9": TABLE9}

# Table 7 has one column pair per dataset; which one a dataset uses follows its Table 3/4 ref.
TABLE7_KEY_BY_SCORES_REF = {"lu2024/table3": "imdb", "lu2024/table4": "agnews"}
EXPERT_KEY_BY_SCORES_REF = TABLE7_KEY_BY_SCORES_REF
