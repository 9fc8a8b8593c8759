"""Per-lab cases for the grading tests: realistic mistakes, one per exercise at least.

``wrong`` maps a submission name to ``(answer cell, old text, new text, lost test cells)``:
the perfect submission with that edit must lose exactly the listed test cells' points.
``syntax_error`` / ``infinite_loop`` name the wrong case whose answer cell is broken that
way instead (same cells lost).  ``deleted_test`` is a test cell a student deletes (nbgrader
restores and runs it); ``duplicated_test`` a test cell a student duplicates.
"""

CASES = {
    "lab1_embeddings": {
        "wrong": {
            "wrong_one_hot": ("one_hot_encode", "encoded[row, index[symbol]] = 1.0",
                              "encoded[row, index[symbol] - 1] = 1.0", ["test_one_hot_encode"]),
            "wrong_cosine": ("distances",
                             "return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))",
                             "return float(x @ y)", ["test_distances"]),
            "wrong_normalize": ("normalize_rows",
                                "return X / np.linalg.norm(X, axis=1, keepdims=True)",
                                "return X / np.linalg.norm(X)", ["test_normalize_rows"]),
            "wrong_memory": ("memory_cost", "return int(batch_size * vocab_size * bytes_per_value)",
                             "return int(batch_size * vocab_size)", ["test_memory_cost"]),
            "wrong_lookup": ("embedding_via_one_hot", "return one_hot @ W",
                             "return one_hot[:, ::-1] @ W", ["test_embedding_via_one_hot"]),
            "wrong_pair_loss": ("build_pair_model", 'loss="binary_crossentropy"', 'loss="mse"',
                                ["test_build_pair_model"]),
            "wrong_neighbours": ("nearest_neighbours",
                                 "E = E / np.linalg.norm(E, axis=1, keepdims=True)", "E = E",
                                 ["test_nearest_neighbours"]),
        },
        "syntax_error": "wrong_memory",
        "infinite_loop": "wrong_normalize",
        "deleted_test": "test_distances",
        "duplicated_test": "test_one_hot_encode",
        "compare": "wrong_cosine",
    },
    "lab2_regularization": {
        "wrong": {
            "wrong_dropout_scale": ("dropout_forward", "return x * keep / (1.0 - rate)",
                                    "return x * keep", ["test_dropout_forward"]),
            "wrong_dropout_inference": ("dropout_forward", "if not training or rate == 0:",
                                        "if rate == 0:", ["test_dropout_forward"]),
            "wrong_mlp_no_dropout": ("build_mlp",
                                     "layers.append(keras.layers.Dropout(dropout_rate))",
                                     "pass", ["test_build_mlp", "test_dropout_effect"]),
            "wrong_mlp_no_l2": ("build_mlp", "if l2 > 0 else None", "if False else None",
                                ["test_build_mlp"]),
            "wrong_bn_variance": ("batchnorm_forward", "x.var(axis=0)", "x.var(axis=0, ddof=1)",
                                  ["test_batchnorm_forward"]),
            "wrong_bn_inference": ("batchnorm_forward", "mean, var = moving_mean, moving_var",
                                   "mean, var = x.mean(axis=0), x.var(axis=0)",
                                   ["test_batchnorm_forward"]),
            "wrong_bn_placement": ("build_deep_mlp",
                                   "keras.layers.BatchNormalization(), "
                                   'keras.layers.Activation("relu")]',
                                   'keras.layers.Activation("relu"), '
                                   "keras.layers.BatchNormalization()]",
                                   ["test_build_deep_mlp"]),
        },
        "syntax_error": "wrong_bn_variance",
        "infinite_loop": "wrong_dropout_scale",
        "deleted_test": "test_dropout_forward",
        "duplicated_test": "test_build_mlp",
        "compare": "wrong_bn_variance",
    },
    "lab3_recsys_explicit": {
        "wrong": {
            "wrong_sort": ("movie_stats", "ascending=[False, False]", "ascending=[True, False]",
                           ["test_movie_stats"]),
            "wrong_merge_key": ("add_user_info", 'on="user_id", how="left"',
                                'left_on="item_id", right_on="user_id", how="left"',
                                ["test_add_user_info"]),
            "wrong_rmse_no_root": ("regression_metrics", "float(np.sqrt(np.mean(",
                                   "float((np.mean(", ["test_regression_metrics"]),
            "wrong_user_bias": ("fit_biases", "r - mu - item_bias[i]", "r - mu",
                                ["test_fit_biases"]),
            "wrong_mf_no_user_bias": ("build_mf_model", "keras.layers.Add()([dot, b_u, b_i])",
                                      "keras.layers.Add()([dot, b_i])", ["test_build_mf_model"]),
            "wrong_recommend_order": ("recommend", "np.argsort(-scores,", "np.argsort(scores,",
                                      ["test_recommend"]),
            "wrong_deep_sigmoid": ("build_deep_model", "x = keras.layers.Dense(1)(x)",
                                   'x = keras.layers.Dense(1, activation="sigmoid")(x)',
                                   ["test_build_deep_model"]),
            "wrong_fixed_dropout": ("build_fixed_model", "keras.layers.Dropout(0.3)",
                                    "keras.layers.Dropout(0.9)", ["test_build_fixed_model"]),
            "wrong_gender_feature": ("metadata_features", '(users["gender"] == "F")',
                                     '(users["gender"] == "M")', ["test_metadata_features"]),
            "wrong_similar_self": ("most_similar", "similarity[[0, item_id]] = -np.inf",
                                   "similarity[[0]] = -np.inf", ["test_most_similar"]),
            "wrong_group_rmse": ("error_by_group", "float(np.sqrt(np.mean(e ** 2)))",
                                 "float(np.mean(e ** 2))", ["test_error_by_group"]),
        },
        "syntax_error": "wrong_rmse_no_root",
        "infinite_loop": "wrong_sort",
        "deleted_test": "test_regression_metrics",
        "duplicated_test": "test_fit_biases",
        "compare": "wrong_user_bias",
    },
}
