"""Exact population quantities and bound calculators (pure numpy/scipy; never imports torch).

One module per part of the book; each function names the result it implements.
"""

from sslbook.theory.curl import (
    CurlKNegativeLosses,
    CurlLosses,
    curl_block_gap_bound,
    curl_block_loss,
    curl_exact_losses,
    curl_k_negative_losses,
    curl_lemma43_bound,
    curl_sample_losses,
    curl_tau,
    curl_tau_k,
)
from sslbook.theory.curl_bounds import (
    DreamCounterexample,
    GeneralizationBound,
    collision_constant,
    dream_counterexample,
    dream_unsup_loss,
    intraclass_deviation,
    linear_generalization_bound,
    linear_probe_loss,
    theorem45_bound,
    triple_moment,
)
from sslbook.theory.downstream import (
    mean_estimation_bound,
    mean_estimation_risk,
    ols_expected_excess_risk,
)
from sslbook.theory.multiview import (
    CCAResult,
    RedundancyQuantities,
    alternating_conditional_expectations,
    cca_objective,
    conditional_expectation_operator,
    density_ratio,
    landmark_predictor,
    landmark_variance,
    projection_residual,
    redundancy,
    whitened_cca,
)
from sslbook.theory.self_prediction import (
    ACIBound,
    aci_bound,
    approximation_error,
    conditional_mean_map,
    eps_ci,
    linear_prediction_error,
    partial_covariance,
)
from sslbook.theory.toolbox import (
    HINGE_LIPSCHITZ,
    LOGISTIC2_LIPSCHITZ,
    RademacherEstimate,
    empirical_rademacher_linear,
    hinge_loss,
    jensen_gap,
    kl_divergence,
    linear_class_sup,
    logistic2_loss,
    pinsker_bound,
    rademacher_linear_bound,
    rademacher_linear_exact,
    rademacher_linear_lower_bound,
    total_variation,
)

__all__ = ["mean_estimation_bound", "mean_estimation_risk", "ols_expected_excess_risk"]
__all__ += [  # Chapter 2 -- toolbox
    "HINGE_LIPSCHITZ",
    "LOGISTIC2_LIPSCHITZ",
    "RademacherEstimate",
    "empirical_rademacher_linear",
    "hinge_loss",
    "jensen_gap",
    "kl_divergence",
    "linear_class_sup",
    "logistic2_loss",
    "pinsker_bound",
    "rademacher_linear_bound",
    "rademacher_linear_exact",
    "rademacher_linear_lower_bound",
    "total_variation",
]
__all__ += [  # Chapters 3 and 5 -- the CURL framework, negatives and blocks
    "CurlKNegativeLosses",
    "CurlLosses",
    "curl_block_gap_bound",
    "curl_block_loss",
    "curl_exact_losses",
    "curl_k_negative_losses",
    "curl_lemma43_bound",
    "curl_sample_losses",
    "curl_tau",
    "curl_tau_k",
]
__all__ += [  # Chapter 4 -- from training loss to a downstream guarantee
    "DreamCounterexample",
    "GeneralizationBound",
    "collision_constant",
    "dream_counterexample",
    "dream_unsup_loss",
    "intraclass_deviation",
    "linear_generalization_bound",
    "linear_probe_loss",
    "theorem45_bound",
    "triple_moment",
]
__all__ += [  # Self-prediction -- predicting what you already know
    "ACIBound",
    "aci_bound",
    "approximation_error",
    "conditional_mean_map",
    "eps_ci",
    "linear_prediction_error",
    "partial_covariance",
]
__all__ += [  # Self-prediction: multiple views, CCA and redundancy
    "CCAResult",
    "RedundancyQuantities",
    "alternating_conditional_expectations",
    "cca_objective",
    "conditional_expectation_operator",
    "density_ratio",
    "landmark_predictor",
    "landmark_variance",
    "projection_residual",
    "redundancy",
    "whitened_cca",
]
