"""TensorFlow's text-classification tutorial's standardization, verbatim
(https://www.tensorflow.org/tutorials/keras/text_classification): the function `staticml import
--custom-objects tutorial_standardization:custom_standardization` is given. Importing this imports TensorFlow."""

import re
import string

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable()
def custom_standardization(input_data):
    lowercase = tf.strings.lower(input_data)
    stripped_html = tf.strings.regex_replace(lowercase, '<br />', ' ')
    return tf.strings.regex_replace(stripped_html,
                                    '[%s]' % re.escape(string.punctuation),
                                    '')
