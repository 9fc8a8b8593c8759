"""The grading cases of lab3_recsys_explicit (see :mod:`tests.cases`)."""

CASES = {
    "right": {
        # Exercise 5: Keras's default initialisers everywhere (random initial biases), no seed:
        # the known false failure of issue 23 until the test stops expecting zero biases.
        "mf_default_init": [
            ("build_mf_model", "    init = keras.initializers.RandomNormal(stddev=0.05, "
             "seed=0)\n", ""),
            ("build_mf_model", " embeddings_initializer=init,", ""),
            ("build_mf_model", 'embeddings_initializer="zeros",\n' + " " * 33, ""),
        ],
        # Exercise 5: the dot product as an element-wise product summed over the last axis.
        "mf_multiply_sum": [("build_mf_model", "dot = keras.layers.Dot(axes=1)([u, v])",
                             "dot = keras.ops.sum(keras.layers.Multiply()([u, v]), axis=1, "
                             "keepdims=True)")],
    },
    "wrong": {
        "wrong_sort": ("movie_stats", "ascending=[False, False]", "ascending=[True, False]",
                       ["test_movie_stats"]),
        "wrong_merge_key": ("add_context", 'on="user_id", how="left"',
                            'left_on="item_id", right_on="user_id", how="left"',
                            ["test_add_context"]),
        "wrong_count_source": ("add_context",
                               'out["item_id"].map(reference["item_id"].value_counts())',
                               'out["item_id"].map(ratings["item_id"].value_counts())',
                               ["test_add_context"]),
        "wrong_count_missing": ("add_context",
                                '.value_counts()).fillna(0)\n    out[["user_count", '
                                '"item_count"]] = out[["user_count", "item_count"]]'
                                '.astype(int)',
                                '.value_counts())', ["test_add_context"]),
        "wrong_rmse_no_root": ("regression_metrics", "float(np.sqrt(np.mean(",
                               "float((np.mean(", ["test_rmse"]),
        "wrong_mae_signed": ("regression_metrics", "np.mean(np.abs(y_true.ravel() - "
                             "y_pred.ravel()))", "np.abs(np.mean(y_true.ravel() - "
                             "y_pred.ravel()))", ["test_mae"]),
        "wrong_user_bias": ("fit_biases", "r - mu - item_bias[i]", "r - mu",
                            ["test_fit_biases"]),
        "wrong_mf_no_user_bias": ("build_mf_model", "keras.layers.Add()([dot, b_u, b_i])",
                                  "keras.layers.Add()([dot, b_i])", ["test_build_mf_model"]),
        "wrong_recommend_order": ("recommend", "np.argsort(-scores,", "np.argsort(scores,",
                                  ["test_recommend"]),
        "wrong_deep_sigmoid": ("build_deep_model", "x = keras.layers.Dense(1)(x)",
                               'x = keras.layers.Dense(1, activation="sigmoid")(x)',
                               ["test_build_deep_model"]),
        "wrong_deep_dropout": ("build_deep_model", "keras.layers.Dropout(dropout_rate)",
                               "keras.layers.Dropout(0.9)", ["test_build_deep_model"]),
        "wrong_deep_loss": ("build_deep_model", 'loss="mse"',
                            'loss="sparse_categorical_crossentropy"',
                            ["test_build_deep_model"]),
        "wrong_deep_five_outputs": ("build_deep_model", "x = keras.layers.Dense(1)(x)",
                                    "x = keras.layers.Dense(5)(x)", ["test_build_deep_model"]),
        "wrong_gender_feature": ("metadata_features", '(users["gender"] == "F")',
                                 '(users["gender"] == "M")', ["test_user_features"]),
        "wrong_year_missing": ("metadata_features", "year.fillna(year.mean())",
                               "year.fillna(0)", ["test_item_features"]),
        "wrong_tables_trained": ("build_metadata_model", "trainable=False", "trainable=True",
                                 ["test_build_metadata_model"]),
        "wrong_no_user_features": ("build_metadata_model",
                                   '        keras.layers.Embedding(*user_table.shape, '
                                   'weights=[user_table], trainable=False,\n'
                                   '                               name="user_metadata")'
                                   '(user_id),\n', "", ["test_build_metadata_model"]),
        "wrong_item_embedding_always": ("build_metadata_model", "    if item_embedding:\n"
                                        "        parts.append(", "    if True:\n"
                                        "        parts.append(",
                                        ["test_build_metadata_model"]),
        "wrong_group_rmse": ("error_by_group", "float(np.sqrt(np.mean(e ** 2)))",
                             "float(np.mean(e ** 2))", ["test_error_by_group"]),
        "wrong_similar_self": ("most_similar", "similarity[[0, item_id]] = -np.inf",
                               "similarity[[0]] = -np.inf", ["test_most_similar"]),
        "wrong_fairlearn_copy": ("group_metrics", '"rmse": root_mean_squared_error',
                                 '"rmse": mean_absolute_error', ["test_group_metrics"]),
        "wrong_fairlearn_one_feature": ("group_metrics",
                                        "sensitive_features=frame[list(columns)]",
                                        "sensitive_features=frame[columns[0]]",
                                        ["test_group_metrics"]),
    },
    "syntax_error": "wrong_rmse_no_root",
    "infinite_loop": "wrong_sort",
    "deleted_test": "test_rmse",
    "duplicated_test": "test_fit_biases",
    "compare": "wrong_user_bias",
}
