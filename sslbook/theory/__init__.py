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
from sslbook.theory.head_tuning import (
    SeparationCertificate,
    balanced_threshold,
    best_threshold_error,
    head_error,
    rowspan_residual,
    separating_head_lp,
    solve_head,
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

from sslbook.theory.alignment_uniformity import (  # noqa: E402
    circle_energy,
    infonce_limit,
    infonce_n_negatives,
    uniform_circle_energy,
    von_mises_energy,
)

__all__ += [  # Augmentations: InfoNCE, alignment and uniformity
    "circle_energy",
    "infonce_limit",
    "infonce_n_negatives",
    "uniform_circle_energy",
    "von_mises_energy",
]

from sslbook.theory.language_models import (  # noqa: E402
    conditional_mean_embedding,
    lm_downstream_bound,
    lm_epsilon,
    lm_gamma,
    logistic_loss,
    modified_pinsker_bound,
    natural_task_loss,
    next_word_cross_entropy,
    softmax_cross_entropy,
    softmax_excess,
    softmax_gradient,
    softmax_optimal_theta,
    softmax_probs,
)

__all__ += [  # Language models: natural tasks and the sqrt(eps) guarantee
    "conditional_mean_embedding",
    "lm_downstream_bound",
    "lm_epsilon",
    "lm_gamma",
    "logistic_loss",
    "modified_pinsker_bound",
    "natural_task_loss",
    "next_word_cross_entropy",
    "softmax_cross_entropy",
    "softmax_excess",
    "softmax_gradient",
    "softmax_optimal_theta",
    "softmax_probs",
]

# Explorers (issue #8): the computations behind the interactive explorers of sslbook.explorers
from sslbook.theory.curl import NegativesCurve, curl_negatives_curve, curl_polygon_features  # noqa: E402
from sslbook.theory.language_models import (  # noqa: E402
    LMBoundCurve,
    lm_bound_curve,
    lm_coverage_mixture,
    lm_noise_scale,
)
from sslbook.theory.self_prediction import ACICurve, aci_violation_curve  # noqa: E402
from sslbook.theory.spectral import HaoChenLeakCurve, haochen_leak_curve  # noqa: E402

__all__ += [  # Explorers (issue #8)
    "ACICurve",
    "HaoChenLeakCurve",
    "LMBoundCurve",
    "NegativesCurve",
    "aci_violation_curve",
    "curl_negatives_curve",
    "curl_polygon_features",
    "haochen_leak_curve",
    "lm_bound_curve",
    "lm_coverage_mixture",
    "lm_noise_scale",
]
__all__ += [  # Language models: HMMs and head tuning
    "SeparationCertificate",
    "balanced_threshold",
    "best_threshold_error",
    "head_error",
    "rowspan_residual",
    "separating_head_lp",
    "solve_head",
]

from sslbook.theory.spectral import (  # noqa: E402
    HaoChenBound,
    LowRankPSD,
    SpectralSolution,
    dirichlet_energy,
    eckart_young,
    graph_laplacian_spectrum,
    haochen_bound,
    normalized_adjacency,
    spectral_closed_form,
    spectral_loss,
    spectral_loss_matrix,
)

__all__ += [  # Augmentations -- the augmentation graph and the spectral contrastive loss
    "HaoChenBound",
    "LowRankPSD",
    "SpectralSolution",
    "dirichlet_energy",
    "eckart_young",
    "graph_laplacian_spectrum",
    "haochen_bound",
    "normalized_adjacency",
    "spectral_closed_form",
    "spectral_loss",
    "spectral_loss_matrix",
]

from sslbook.theory.inductive_biases import (  # noqa: E402
    ComponentSpectra,
    LinearClassBound,
    LinearSpectralSolution,
    augmentation_components,
    best_linear_probe_residual,
    davis_kahan_bound,
    estimate_aug_moments,
    feature_bayes_error,
    invariant_spectral_loss,
    linear_aug_matrix,
    linear_class_bound,
    linear_spectral_loss,
    spectral_linear_closed_form,
    spectral_loss_finite,
    subspace_miss,
)

__all__ += [  # Augmentations: why inductive biases are unavoidable
    "ComponentSpectra",
    "LinearClassBound",
    "LinearSpectralSolution",
    "augmentation_components",
    "best_linear_probe_residual",
    "davis_kahan_bound",
    "estimate_aug_moments",
    "feature_bayes_error",
    "invariant_spectral_loss",
    "linear_aug_matrix",
    "linear_class_bound",
    "linear_spectral_loss",
    "spectral_linear_closed_form",
    "spectral_loss_finite",
    "subspace_miss",
]
from sslbook.theory.quad import (  # noqa: E402
    QuadEmbeddings,
    quad_closed_form,
    quad_downstream_bound,
    quad_excess,
    quad_loss,
    quad_omega,
    quad_optimal_embeddings,
    quad_optimal_value,
)

__all__ += [  # Language models: conditional mean features, Quad, a tiny LM
    "QuadEmbeddings",
    "quad_closed_form",
    "quad_downstream_bound",
    "quad_excess",
    "quad_loss",
    "quad_omega",
    "quad_optimal_embeddings",
    "quad_optimal_value",
]
from sslbook.theory.lm_geometry import (  # noqa: E402
    embedding_covariance,
    log_partition,
    refined_coverage,
    softmax_linearization,
)

__all__ += [  # Language models: log-partition geometry and refined coverage (helper ch4)
    "embedding_covariance",
    "log_partition",
    "refined_coverage",
    "softmax_linearization",
]
